package dev.kappabeam.pipelines.options;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.kappabeam.serving.JdbcPassword;
import dev.kappabeam.serving.StoreConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.beam.sdk.options.PipelineOptionsFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreConfigsTest {
  @TempDir Path dir;

  private static KappaBeamOptions options(String... args) {
    return PipelineOptionsFactory.fromArgs(args).as(KappaBeamOptions.class);
  }

  @Test
  void passwordFileIsReadWhenConnectingAndNeverEntersTheOptions() throws Exception {
    Path file = dir.resolve("pw");
    Files.writeString(file, "CANARY-opt\n");
    KappaBeamOptions o =
        options("--jdbcUrl=jdbc:h2:mem:x", "--jdbcPasswordFile=" + file, "--viewVersion=v1");
    StoreConfig store = StoreConfigs.of(o);
    assertEquals(JdbcPassword.fromFile(file.toString()), store.passwordSource());
    assertEquals("CANARY-opt", store.password());
    // What runners display or ship: toString and the JSON the options serialize to.
    String json = new ObjectMapper().writeValueAsString(o);
    assertFalse(json.contains("CANARY"), json);
    assertFalse(o.toString().contains("CANARY"), o.toString());
  }

  @Test
  void withoutAFileTheVariableIsNamedAndTheLocalDefaultIsTheFallback() {
    KappaBeamOptions o = options("--jdbcUrl=jdbc:h2:mem:x", "--viewVersion=v1");
    assertEquals(
        JdbcPassword.fromEnv("KB_JDBC_PASSWORD", StoreConfigs.LOCAL_DEFAULT_PASSWORD),
        StoreConfigs.password(o));
    KappaBeamOptions named =
        options("--jdbcUrl=jdbc:h2:mem:x", "--jdbcPasswordEnv=DB_PW", "--viewVersion=v1");
    assertEquals(
        JdbcPassword.fromEnv("DB_PW", StoreConfigs.LOCAL_DEFAULT_PASSWORD),
        StoreConfigs.password(named));
  }

  @Test
  void passwordAsAnOptionIsRefusedSayingWhatToUse() {
    KappaBeamOptions o =
        options("--jdbcUrl=jdbc:h2:mem:x", "--jdbcPassword=CANARY-flag", "--viewVersion=v1");
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> StoreConfigs.of(o));
    assertTrue(e.getMessage().contains("--jdbcPasswordFile"), e.getMessage());
    assertTrue(e.getMessage().contains("--jdbcPasswordEnv"), e.getMessage());
    assertFalse(e.getMessage().contains("CANARY"), e.getMessage());
  }

  @Test
  void theSinkRidesOutOutagesForTheOutageGraceOfTheOptions() {
    KappaBeamOptions defaults = options("--jdbcUrl=jdbc:h2:mem:x", "--viewVersion=v1");
    assertEquals(java.time.Duration.ofMinutes(2), StoreConfigs.of(defaults).outageGrace());
    KappaBeamOptions set =
        options("--jdbcUrl=jdbc:h2:mem:x", "--viewVersion=v1", "--outageGrace=PT20S");
    assertEquals(java.time.Duration.ofSeconds(20), StoreConfigs.of(set).outageGrace());
    for (String bad : new String[] {"2m", "-PT1S", ""}) {
      IllegalArgumentException e =
          assertThrows(
              IllegalArgumentException.class,
              () ->
                  StoreConfigs.of(
                      options(
                          "--jdbcUrl=jdbc:h2:mem:x", "--viewVersion=v1", "--outageGrace=" + bad)));
      assertTrue(e.getMessage().contains("e.g. PT2M"), e.getMessage());
    }
  }
}
