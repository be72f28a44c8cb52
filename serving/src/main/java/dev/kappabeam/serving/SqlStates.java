package dev.kappabeam.serving;

import java.io.IOException;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.Set;

/** The SQLStates the serving store reacts to, on H2 and PostgreSQL alike. */
final class SqlStates {
  private SqlStates() {}

  /**
   * The whole transaction is worth another try: serialization failure (40001; also H2's deadlock),
   * deadlock (40P01), unique violation (23505: a concurrent writer inserted the same key first),
   * H2's lock timeout (HYT00) and concurrent update (90131).
   */
  static final Set<String> CONFLICT = Set.of("40001", "40P01", "23505", "HYT00", "90131");

  /**
   * Two processes ran {@code CREATE TABLE IF NOT EXISTS} for the same table at once on PostgreSQL,
   * which does not serialise it: the loser sees duplicate table (42P07), duplicate object (42710:
   * the table's row type) or a unique violation on the catalog (23505). Retrying finds the table.
   */
  static final Set<String> CONCURRENT_CREATE = Set.of("42P07", "42710", "23505");

  /** No such table or view: 42S02/42S04 and H2's 42102, PostgreSQL's 42P01. */
  static final Set<String> MISSING_TABLE = Set.of("42S02", "42S04", "42102", "42P01");

  /**
   * The connection to the database is lost or cannot be made, and the statement may succeed on a
   * new one: SQLState class 08 (connection exception, both drivers), PostgreSQL's 57P01/57P02/57P03
   * (administrator or crash shutdown, cannot connect now) and H2's 90067 (connection is broken,
   * also a refused connection), 90098 (database closed) and 90121 (database called at shutdown).
   */
  static final Set<String> CONNECTION_LOST_STATES =
      Set.of("57P01", "57P02", "57P03", "90067", "90098", "90121");

  /**
   * True when {@code e} or one of its causes says the connection was lost or refused (see {@link
   * #CONNECTION_LOST_STATES}, plus SQLState class 08, the JDBC connection exceptions and a socket
   * error underneath a driver's exception). Such a failure says nothing about the statement: the
   * same work on a new connection may succeed.
   */
  static boolean connectionLost(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientConnectionException
          || t instanceof SQLNonTransientConnectionException
          || t instanceof IOException) {
        return true;
      }
      if (t instanceof SQLException) {
        for (SQLException s = (SQLException) t; s != null; s = s.getNextException()) {
          String state = s.getSQLState();
          if (state != null && (state.startsWith("08") || CONNECTION_LOST_STATES.contains(state))) {
            return true;
          }
        }
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  /** True when {@code e}, its causes or chained exceptions carry one of {@code states}. */
  static boolean any(SQLException e, Set<String> states) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException) {
        for (SQLException s = (SQLException) t; s != null; s = s.getNextException()) {
          if (s.getSQLState() != null && states.contains(s.getSQLState())) {
            return true;
          }
        }
      }
    }
    return false;
  }
}
