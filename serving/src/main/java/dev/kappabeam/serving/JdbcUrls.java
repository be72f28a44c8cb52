package dev.kappabeam.serving;

import java.util.regex.Pattern;

/**
 * Hides credentials in JDBC URLs before they are printed, logged or put into an error message.
 *
 * <p>Covers the shapes drivers accept: a {@code password=} (or {@code sslpassword=}, {@code
 * FILE_PASSWORD=}, any parameter whose name contains password, secret or token) after {@code ?},
 * {@code &} or {@code ;} (PostgreSQL, H2, MySQL), {@code //user:password@host} userinfo, and
 * Oracle's {@code thin:user/password@host}. The user name stays visible; the secret becomes {@value
 * #MASK}. {@link #redact(String)} also works on free text holding such URLs, e.g. a driver's error
 * message.
 *
 * <pre>{@code
 * JdbcUrls.redact("jdbc:postgresql://db/kb?user=kb&password=s3cret")
 *     // jdbc:postgresql://db/kb?user=kb&password=****
 * }</pre>
 */
public final class JdbcUrls {
  /** What a secret is replaced with. */
  public static final String MASK = "****";

  private static final Pattern SECRET_PARAMETER =
      Pattern.compile(
          "(?i)([?&;][^=&;?\\s]*(?:password|passwd|pwd|secret|token)[^=&;?\\s]*=)[^&;\\s\"']*");
  private static final Pattern USER_INFO = Pattern.compile("(//[^/@:?;&\\s]*):[^@/\\s]*@");
  private static final Pattern ORACLE_THIN = Pattern.compile("(?i)(:thin:[^/@:\\s]*)/[^@\\s]*@");

  private JdbcUrls() {}

  /** {@code text} (a URL, or any text holding URLs) with every credential replaced by the mask. */
  public static String redact(String text) {
    if (text == null) {
      return null;
    }
    String out = SECRET_PARAMETER.matcher(text).replaceAll("$1" + MASK);
    out = USER_INFO.matcher(out).replaceAll("$1:" + MASK + "@");
    return ORACLE_THIN.matcher(out).replaceAll("$1/" + MASK + "@");
  }
}
