package dev.kappabeam.serving;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class JdbcUrlsTest {
  @Test
  void postgresPasswordParameterIsMasked() {
    assertEquals(
        "jdbc:postgresql://db:5432/kb?user=kb&password=****&ssl=true",
        JdbcUrls.redact("jdbc:postgresql://db:5432/kb?user=kb&password=CANARY-1&ssl=true"));
    assertEquals(
        "jdbc:postgresql://db/kb?password=****",
        JdbcUrls.redact("jdbc:postgresql://db/kb?password=CANARY-1"));
  }

  @Test
  void otherSecretParametersAreMasked() {
    assertEquals(
        "jdbc:postgresql://db/kb?sslmode=verify-full&sslpassword=****",
        JdbcUrls.redact("jdbc:postgresql://db/kb?sslmode=verify-full&sslpassword=k3y"));
    assertEquals(
        "jdbc:bigquery://x;OAuthType=0;AccessToken=****",
        JdbcUrls.redact("jdbc:bigquery://x;OAuthType=0;AccessToken=ya29.abc"));
  }

  @Test
  void h2SemicolonSettingsAreMaskedWhateverTheCase() {
    assertEquals(
        "jdbc:h2:tcp://localhost:9092/kb;MODE=PostgreSQL;PASSWORD=****;USER=kb",
        JdbcUrls.redact("jdbc:h2:tcp://localhost:9092/kb;MODE=PostgreSQL;PASSWORD=s3;USER=kb"));
    assertEquals(
        "jdbc:h2:file:/data/kb;CIPHER=AES;FILE_PASSWORD=****",
        JdbcUrls.redact("jdbc:h2:file:/data/kb;CIPHER=AES;FILE_PASSWORD=f1le"));
  }

  @Test
  void userInfoPasswordIsMaskedAndTheUserKept() {
    assertEquals(
        "jdbc:postgresql://kb:****@db:5432/kb",
        JdbcUrls.redact("jdbc:postgresql://kb:CANARY:x@db:5432/kb"));
    assertEquals(
        "jdbc:mysql://app:****@db/kb?useSSL=true",
        JdbcUrls.redact("jdbc:mysql://app:p%40ss@db/kb?useSSL=true"));
    assertEquals(
        "jdbc:oracle:thin:scott/****@db:1521/orcl",
        JdbcUrls.redact("jdbc:oracle:thin:scott/tiger@db:1521/orcl"));
  }

  @Test
  void urlsWithoutCredentialsAreUnchanged() {
    for (String url :
        new String[] {
          "jdbc:postgresql://db:5432/kb",
          "jdbc:postgresql://db:5432/kb?user=kb&currentSchema=s",
          "jdbc:h2:tcp://127.0.0.1:19093/kb;MODE=PostgreSQL;DATABASE_TO_LOWER=TRUE",
          "jdbc:h2:mem:x"
        }) {
      assertEquals(url, JdbcUrls.redact(url));
    }
    assertNull(JdbcUrls.redact(null));
  }

  @Test
  void urlsInsideAMessageAreMasked() {
    String message =
        "cannot read the alias at jdbc:postgresql://db/kb?user=kb&password=CANARY failed: Connection"
            + " refused (jdbc:postgresql://kb:CANARY@db/kb)";
    String redacted = JdbcUrls.redact(message);
    assertFalse(redacted.contains("CANARY"), redacted);
    assertEquals(
        "cannot read the alias at jdbc:postgresql://db/kb?user=kb&password=**** failed: Connection"
            + " refused (jdbc:postgresql://kb:****@db/kb)",
        redacted);
  }
}
