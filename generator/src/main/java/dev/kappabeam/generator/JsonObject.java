package dev.kappabeam.generator;

import dev.kappabeam.transforms.events.EventJson;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The fields of one JSON object as raw JSON text, in order; renders compactly. Lets the generator
 * vary the field order, add unknown fields and break single fields on purpose.
 */
final class JsonObject {
  private final List<String> names = new ArrayList<>();
  private final List<String> values = new ArrayList<>();

  /** Adds a field, or replaces the value of an existing one in place. */
  JsonObject put(String name, String rawJson) {
    int i = names.indexOf(name);
    if (i >= 0) {
      values.set(i, rawJson);
    } else {
      names.add(name);
      values.add(rawJson);
    }
    return this;
  }

  JsonObject putString(String name, String value) {
    return put(name, EventJson.quote(value));
  }

  JsonObject remove(String name) {
    int i = names.indexOf(name);
    if (i >= 0) {
      names.remove(i);
      values.remove(i);
    }
    return this;
  }

  boolean has(String name) {
    return names.contains(name);
  }

  /** Fisher-Yates with {@link Random#nextInt(int)}, whose sequence the JDK specifies. */
  void shuffle(Random rnd) {
    for (int i = names.size() - 1; i > 0; i--) {
      int j = rnd.nextInt(i + 1);
      names.set(j, names.set(i, names.get(j)));
      values.set(j, values.set(i, values.get(j)));
    }
  }

  String render() {
    StringBuilder b = new StringBuilder(160).append('{');
    for (int i = 0; i < names.size(); i++) {
      if (i > 0) {
        b.append(',');
      }
      b.append(EventJson.quote(names.get(i))).append(':').append(values.get(i));
    }
    return b.append('}').toString();
  }
}
