"""OpenTelemetry metrics intake: OTLP/HTTP requests become exchange-format records.

``decode`` reads the request body (protobuf or JSON, gzip), ``rules`` names the
layer and direction of each metric, ``temporality`` turns cumulative and delta
streams into per-interval amounts with state that survives a restart,
``buckets`` turns histograms into quantile samples, ``convert`` assembles the
records, and ``intake`` stores them with the stream state in one transaction.
"""
