package dev.kappabeam.serving;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.apache.beam.sdk.schemas.Schema;
import org.joda.time.Instant;
import org.joda.time.ReadableInstant;

/**
 * How a Beam schema type is stored, bound and read back, identically on PostgreSQL and H2.
 *
 * <p>DATETIME is {@code TIMESTAMP WITH TIME ZONE} bound and read as a UTC {@link OffsetDateTime}:
 * an absolute instant on both databases (microsecond precision, so milliseconds round-trip
 * exactly), independent of the JVM's and the session's time zone, and shown with its offset to a
 * person who queries the table. Strings are {@code VARCHAR} without a length: unbounded on
 * PostgreSQL, and on H2 (where {@code TEXT} would be a CLOB, which cannot be a key) up to 1 MiB.
 */
enum ColumnType {
  INT16("SMALLINT", Types.SMALLINT),
  INT32("INTEGER", Types.INTEGER),
  INT64("BIGINT", Types.BIGINT),
  DOUBLE("DOUBLE PRECISION", Types.DOUBLE),
  BOOLEAN("BOOLEAN", Types.BOOLEAN),
  STRING("VARCHAR", Types.VARCHAR),
  DATETIME("TIMESTAMP WITH TIME ZONE", Types.TIMESTAMP_WITH_TIMEZONE);

  final String sql;
  private final int jdbcType;

  ColumnType(String sql, int jdbcType) {
    this.sql = sql;
    this.jdbcType = jdbcType;
  }

  static ColumnType of(String view, Schema.Field field) {
    Schema.TypeName t = field.getType().getTypeName();
    switch (t) {
      case INT16:
        return INT16;
      case INT32:
        return INT32;
      case INT64:
        return INT64;
      case DOUBLE:
        return DOUBLE;
      case BOOLEAN:
        return BOOLEAN;
      case STRING:
        return STRING;
      case DATETIME:
        return DATETIME;
      default:
        throw new IllegalArgumentException(
            "view "
                + view
                + " column "
                + field.getName()
                + " has type "
                + t
                + ", which the serving store cannot store; use INT16/32/64, DOUBLE, BOOLEAN,"
                + " STRING or DATETIME");
    }
  }

  void bind(PreparedStatement ps, int index, Object value) throws SQLException {
    if (value == null) {
      ps.setNull(index, jdbcType);
      return;
    }
    switch (this) {
      case INT16:
        ps.setShort(index, (Short) value);
        break;
      case INT32:
        ps.setInt(index, (Integer) value);
        break;
      case INT64:
        ps.setLong(index, (Long) value);
        break;
      case DOUBLE:
        ps.setDouble(index, (Double) value);
        break;
      case BOOLEAN:
        ps.setBoolean(index, (Boolean) value);
        break;
      case STRING:
        ps.setString(index, (String) value);
        break;
      case DATETIME:
        long millis = ((ReadableInstant) value).getMillis();
        ps.setObject(index, java.time.Instant.ofEpochMilli(millis).atOffset(ZoneOffset.UTC));
        break;
      default:
        throw new IllegalStateException(name());
    }
  }

  Object read(ResultSet rs, int index) throws SQLException {
    Object v;
    switch (this) {
      case INT16:
        v = rs.getShort(index);
        break;
      case INT32:
        v = rs.getInt(index);
        break;
      case INT64:
        v = rs.getLong(index);
        break;
      case DOUBLE:
        v = rs.getDouble(index);
        break;
      case BOOLEAN:
        v = rs.getBoolean(index);
        break;
      case STRING:
        v = rs.getString(index);
        break;
      case DATETIME:
        OffsetDateTime t = rs.getObject(index, OffsetDateTime.class);
        v = t == null ? null : new Instant(t.toInstant().toEpochMilli());
        break;
      default:
        throw new IllegalStateException(name());
    }
    return rs.wasNull() ? null : v;
  }
}
