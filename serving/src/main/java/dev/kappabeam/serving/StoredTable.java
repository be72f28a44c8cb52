package dev.kappabeam.serving;

import dev.kappabeam.transforms.views.ViewDefinition;

/**
 * One view-version table in the store, as listed by {@link ViewStore#listTables()}.
 *
 * @param view the view whose rows the table holds
 * @param version the version, e.g. {@code v2}
 * @param rows the number of rows when it was listed
 */
public record StoredTable(ViewDefinition view, String version, long rows) {
  /** The table's name, {@code <view>__<version>}. */
  public String tableName() {
    return ViewStore.tableName(view, version);
  }
}
