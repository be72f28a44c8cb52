# Sourced by scripts/test: sets up what the tests need from outside Maven, then runs them.
#
#   kb_test_setup postgres browser kcat   # what this suite needs, any of the three
#   kb_test_run mvn -B -ntp verify ...    # runs it; PostgreSQL is stopped afterwards
#
# For each need that is missing, installs its Debian packages when it can (as root, or with
# passwordless `sudo -n`; one `apt-get update` for all of them). When it cannot, it prints one
# line saying what it skips, why, and the command that would install it, and exports the
# KB_SKIP_* switch that the tests understand (KB_SKIP_POSTGRES, KB_SKIP_BROWSER, KB_SKIP_KCAT).
# A switch already set to 1 by the caller means "not needed". KB_TEST_NO_INSTALL=1 never installs.
#
# PostgreSQL: when KB_TEST_PG_URL is set, that server is used. Otherwise a throwaway cluster is
# started with serving/src/test/postgres/start-postgres.sh on the first free port from 55432 (or
# KB_PG_PORT), and stopped and removed on exit, also on failure, Ctrl-C or SIGTERM.

kb_test_me="scripts/${0##*/}"
kb_test_root=""      # how to run a command as root: "" as root, "sudo -n" with passwordless sudo
kb_test_can_root=0   # 1 when one of the two works
kb_test_pg_env=()    # KB_PG_PORT (and KB_PG_DIR) of the cluster this run started, if any
kb_test_pid=""       # the running test command

kb_test_say() { echo "${kb_test_me}: $*" >&2; }

# Why packages cannot be installed here, or nothing when they can.
kb_test_why_no_install() {
  if [[ "${KB_TEST_NO_INSTALL:-}" == 1 ]]; then
    echo "KB_TEST_NO_INSTALL=1"
  elif [[ "${kb_test_can_root}" != 1 ]]; then
    echo "not root and no passwordless sudo"
  elif ! command -v apt-get >/dev/null 2>&1; then
    echo "no apt-get (not Debian)"
  fi
}

kb_test_have_postgres() { compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; }
kb_test_have_browser() {
  [[ -x "${KB_CHROMIUM:-/usr/bin/chromium}" && -x "${KB_CHROMEDRIVER:-/usr/bin/chromedriver}" ]]
}
kb_test_have_kcat() { command -v kcat >/dev/null 2>&1 || command -v kafkacat >/dev/null 2>&1; }

# Installs what is missing of the given needs, or skips their tests.
kb_test_setup() {
  if [[ "$(id -u)" -eq 0 ]]; then
    kb_test_can_root=1
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    kb_test_can_root=1 kb_test_root="sudo -n"
  fi
  local sudo_hint="sudo "
  [[ "$(id -u)" -eq 0 ]] && sudo_hint=""
  local why need packages=() skipped=()
  why="$(kb_test_why_no_install)"

  for need in "$@"; do
    case "${need}" in
      postgres)
        [[ -n "${KB_TEST_PG_URL:-}" || "${KB_SKIP_POSTGRES:-}" == 1 ]] && continue
        if [[ "${kb_test_can_root}" != 1 ]]; then
          # start-postgres.sh runs the server as the postgres user, which takes root.
          kb_test_say "skipping the PostgreSQL tests (KB_SKIP_POSTGRES=1): not root and no passwordless sudo to start a throwaway server; to run them: eval \"\$(sudo serving/src/test/postgres/start-postgres.sh)\" && scripts/test"
          export KB_SKIP_POSTGRES=1
        elif ! kb_test_have_postgres; then
          if [[ -z "${why}" ]]; then packages+=(postgresql); else skipped+=("postgres"); fi
        fi
        ;;
      browser)
        [[ "${KB_SKIP_BROWSER:-}" == 1 ]] && continue
        if ! kb_test_have_browser; then
          if [[ -z "${why}" ]]; then packages+=(chromium chromium-driver); else skipped+=("browser"); fi
        fi
        ;;
      kcat)
        [[ "${KB_SKIP_KCAT:-}" == 1 ]] && continue
        if ! kb_test_have_kcat; then
          if [[ -z "${why}" ]]; then packages+=(kcat); else skipped+=("kcat"); fi
        fi
        ;;
      *) kb_test_say "unknown need ${need}"; return 2 ;;
    esac
  done

  for need in "${skipped[@]+"${skipped[@]}"}"; do
    case "${need}" in
      postgres)
        kb_test_say "skipping the PostgreSQL tests (KB_SKIP_POSTGRES=1): postgresql is not installed (${why}); install it with: ${sudo_hint}apt-get install -y postgresql"
        export KB_SKIP_POSTGRES=1 ;;
      browser)
        kb_test_say "skipping the page test in a headless browser (KB_SKIP_BROWSER=1): chromium or chromedriver is not installed (${why}); install them with: ${sudo_hint}apt-get install -y chromium chromium-driver"
        export KB_SKIP_BROWSER=1 ;;
      kcat)
        kb_test_say "skipping the kcat test (KB_SKIP_KCAT=1): kcat is not installed (${why}); install it with: ${sudo_hint}apt-get install -y kcat"
        export KB_SKIP_KCAT=1 ;;
    esac
  done

  if ((${#packages[@]})); then
    kb_test_say "installing ${packages[*]} from Debian packages (once; later runs find them)"
    ${kb_test_root} env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get update -qq
    ${kb_test_root} env DEBIAN_FRONTEND=noninteractive DEBCONF_NOWARNINGS=yes apt-get install -y -qq "${packages[@]}" >/dev/null
  fi

  trap kb_test_teardown EXIT
  trap 'kb_test_interrupted 130' INT
  trap 'kb_test_interrupted 143' TERM

  if [[ " $* " == *" postgres "* && -z "${KB_TEST_PG_URL:-}" && "${KB_SKIP_POSTGRES:-}" != 1 ]]; then
    kb_test_start_postgres
  fi
}

kb_test_start_postgres() {
  local port="${KB_PG_PORT:-}" script="serving/src/test/postgres/start-postgres.sh" log settings
  if [[ -z "${port}" ]]; then
    # Another run (or anything else) may hold 55432; each run gets its own cluster.
    for port in $(seq 55432 55531); do
      (exec 3<>"/dev/tcp/127.0.0.1/${port}") 2>/dev/null || break
    done
  fi
  # Set first: an interrupted start is stopped too.
  kb_test_pg_env=(KB_PG_PORT="${port}")
  [[ -n "${KB_PG_DIR:-}" ]] && kb_test_pg_env+=(KB_PG_DIR="${KB_PG_DIR}")
  log="$(mktemp)"
  if ! settings="$(${kb_test_root} env "${kb_test_pg_env[@]}" "${script}" 2>"${log}")"; then
    cat "${log}" >&2
    rm -f "${log}"
    kb_test_say "could not start PostgreSQL (above); set KB_SKIP_POSTGRES=1 to run without it"
    return 1
  fi
  rm -f "${log}"
  eval "${settings}"
  kb_test_say "PostgreSQL for this run on 127.0.0.1:${port} (stopped at the end)"
}

# Runs the test command in the background so that a signal reaches the trap at once (bash runs
# traps only after a foreground command ends); returns its exit status.
kb_test_run() {
  "$@" &
  kb_test_pid=$!
  wait "${kb_test_pid}"
}

kb_test_interrupted() {
  trap - INT TERM
  kb_test_say "interrupted; stopping the tests"
  exit "$1"
}

kb_test_teardown() {
  local status=$?
  if [[ -n "${kb_test_pid}" ]] && kill -0 "${kb_test_pid}" 2>/dev/null; then
    kill -TERM "${kb_test_pid}" 2>/dev/null || true
    wait "${kb_test_pid}" 2>/dev/null || true
  fi
  if ((${#kb_test_pg_env[@]})); then
    if ${kb_test_root} env "${kb_test_pg_env[@]}" serving/src/test/postgres/stop-postgres.sh 2>/dev/null; then
      kb_test_say "stopped the PostgreSQL of this run"
    else
      kb_test_say "could not stop the PostgreSQL of this run (${kb_test_pg_env[*]}); stop it with serving/src/test/postgres/stop-postgres.sh"
    fi
  fi
  exit "${status}"
}
