package dev.kappabeam.transforms.events;

import java.io.Serializable;
import java.util.Objects;
import org.checkerframework.checker.nullness.qual.Nullable;

/**
 * One valid event of the reference workload, as accepted by {@link ParseEvents}.
 *
 * <p>Immutable. {@code item} and {@code amountCents} are always present for purchases and may be
 * absent ({@code null}) for other types. {@code timestampMillis} is the event time (UTC epoch
 * milliseconds) taken from the JSON {@code ts} field. Encoded by {@link EventCoder}.
 */
public final class Event implements Serializable {
  private final String eventId;
  private final String userId;
  private final EventType type;
  private final @Nullable String item;
  private final @Nullable Long amountCents;
  private final long timestampMillis;

  public Event(
      String eventId,
      String userId,
      EventType type,
      @Nullable String item,
      @Nullable Long amountCents,
      long timestampMillis) {
    this.eventId = Objects.requireNonNull(eventId, "eventId");
    this.userId = Objects.requireNonNull(userId, "userId");
    this.type = Objects.requireNonNull(type, "type");
    this.item = item;
    this.amountCents = amountCents;
    this.timestampMillis = timestampMillis;
  }

  public String eventId() {
    return eventId;
  }

  public String userId() {
    return userId;
  }

  public EventType type() {
    return type;
  }

  public @Nullable String item() {
    return item;
  }

  public @Nullable Long amountCents() {
    return amountCents;
  }

  /** Revenue this event contributes: its amount for a purchase, 0 otherwise. */
  public long revenueCents() {
    return type == EventType.PURCHASE && amountCents != null ? amountCents : 0L;
  }

  public boolean isPurchase() {
    return type == EventType.PURCHASE;
  }

  public long timestampMillis() {
    return timestampMillis;
  }

  @Override
  public boolean equals(@Nullable Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof Event)) {
      return false;
    }
    Event e = (Event) o;
    return timestampMillis == e.timestampMillis
        && eventId.equals(e.eventId)
        && userId.equals(e.userId)
        && type == e.type
        && Objects.equals(item, e.item)
        && Objects.equals(amountCents, e.amountCents);
  }

  /**
   * Stable across JVMs (the type by name, not the enum's identity hash): streaming de-duplication
   * keeps it in state to spot conflicting copies, and state outlives a JVM (checkpoints,
   * savepoints).
   */
  @Override
  public int hashCode() {
    return Objects.hash(eventId, userId, type.name(), item, amountCents, timestampMillis);
  }

  @Override
  public String toString() {
    return "Event{"
        + eventId
        + ", user="
        + userId
        + ", "
        + type.json()
        + (item == null ? "" : ", item=" + item)
        + (amountCents == null ? "" : ", amount_cents=" + amountCents)
        + ", ts="
        + java.time.Instant.ofEpochMilli(timestampMillis)
        + "}";
  }
}
