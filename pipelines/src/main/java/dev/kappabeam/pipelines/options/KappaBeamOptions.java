package dev.kappabeam.pipelines.options;

/** All options of the reference pipeline: source, event time and serving store. */
public interface KappaBeamOptions
    extends KafkaSourceOptions, EventTimeOptions, ServingStoreOptions {}
