// Package emf renders CloudWatch Embedded Metric Format (EMF) log lines, so
// that a Lambda function can publish metrics by printing one JSON line to
// stdout: CloudWatch Logs extracts the metrics from the log event, with no
// PutMetricData call, no batching and no extra latency.
//
// A line carries one metric directive: a namespace, one dimension set (the
// names of the dimensions, sorted) and up to 100 metrics, followed on the
// root object by the dimension values, the metric values and any extra
// properties. Properties are not dimensions: they stay searchable in the
// log event (e.g. with CloudWatch Logs Insights) without creating metrics,
// which is where high-cardinality values such as a job id belong.
//
// Line validates its input against the specification
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html)
// and the CloudWatch limits on dimensions, because CloudWatch rejects an
// invalid document without telling the function: the log line is kept but
// no metric appears.
// Output is deterministic for a given input.
package emf
