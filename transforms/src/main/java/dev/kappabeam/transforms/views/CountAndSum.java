package dev.kappabeam.transforms.views;

import org.apache.beam.sdk.coders.Coder;
import org.apache.beam.sdk.coders.CoderRegistry;
import org.apache.beam.sdk.coders.KvCoder;
import org.apache.beam.sdk.coders.VarLongCoder;
import org.apache.beam.sdk.transforms.Combine;
import org.apache.beam.sdk.transforms.SerializableFunction;
import org.apache.beam.sdk.values.KV;

/**
 * A building block for a view's aggregation: how many events, and the sum of one amount of each
 * (e.g. orders and revenue). The result is {@code KV(count, sum)}; the sum saturates at {@link
 * Long#MAX_VALUE} rather than overflow.
 *
 * <pre>{@code
 * .aggregating(CountAndSum.of(o -> o.getInt64("total_cents")), CountAndSum.CODER,
 *     (currency, s, window) -> row(window, currency, s.getKey(), s.getValue()))
 * }</pre>
 */
public final class CountAndSum<E> extends Combine.CombineFn<E, KV<Long, Long>, KV<Long, Long>> {
  /** The coder of the accumulator and of the result. */
  public static final Coder<KV<Long, Long>> CODER =
      KvCoder.of(VarLongCoder.of(), VarLongCoder.of());

  private final SerializableFunction<E, Long> amount;

  private CountAndSum(SerializableFunction<E, Long> amount) {
    this.amount = amount;
  }

  /** Counts events and sums {@code amount} of each (a null amount adds nothing). */
  public static <E> CountAndSum<E> of(SerializableFunction<E, Long> amount) {
    return new CountAndSum<>(java.util.Objects.requireNonNull(amount, "amount"));
  }

  @Override
  public KV<Long, Long> createAccumulator() {
    return KV.of(0L, 0L);
  }

  @Override
  public KV<Long, Long> addInput(KV<Long, Long> acc, E event) {
    Long a = amount.apply(event);
    return KV.of(acc.getKey() + 1, add(acc.getValue(), a == null ? 0L : a));
  }

  @Override
  public KV<Long, Long> mergeAccumulators(Iterable<KV<Long, Long>> accumulators) {
    long n = 0;
    long sum = 0;
    for (KV<Long, Long> a : accumulators) {
      n += a.getKey();
      sum = add(sum, a.getValue());
    }
    return KV.of(n, sum);
  }

  @Override
  public KV<Long, Long> extractOutput(KV<Long, Long> acc) {
    return acc;
  }

  @Override
  public Coder<KV<Long, Long>> getAccumulatorCoder(CoderRegistry registry, Coder<E> inputCoder) {
    return CODER;
  }

  @Override
  public Coder<KV<Long, Long>> getDefaultOutputCoder(CoderRegistry registry, Coder<E> inputCoder) {
    return CODER;
  }

  private static long add(long a, long b) {
    long r = a + b;
    // Overflow only when both have the sign the result lacks.
    if (((a ^ r) & (b ^ r)) < 0) {
      return r < 0 ? Long.MAX_VALUE : Long.MIN_VALUE;
    }
    return r;
  }
}
