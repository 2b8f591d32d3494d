//! Metrics for Prometheus (`GET /metrics`): counters and histograms kept in
//! process, rendered in the text exposition format. Gauges that the store knows
//! (queue depths) are read at scrape time by the API.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Upper bounds (seconds) of the OCR-per-page histogram.
const OCR_BUCKETS: &[f64] = &[0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 120.0];
/// Upper bounds (seconds) of the HTTP latency histogram.
const HTTP_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0, 30.0, 60.0,
];

/// Upper bounds (seconds) of the postbox delivery histogram.
const DELIVERY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.0075, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, buckets: &[f64], value: f64) {
        if self.counts.is_empty() {
            self.counts = vec![0; buckets.len()];
        }
        for (i, bound) in buckets.iter().enumerate() {
            if value <= *bound {
                self.counts[i] += 1;
            }
        }
        self.sum += value;
        self.count += 1;
    }

    fn render(&self, out: &mut String, name: &str, labels: &str, buckets: &[f64]) {
        let sep = if labels.is_empty() { "" } else { "," };
        for (i, bound) in buckets.iter().enumerate() {
            let n = self.counts.get(i).copied().unwrap_or(0);
            let _ = writeln!(out, "{name}_bucket{{{labels}{sep}le=\"{bound}\"}} {n}");
        }
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {}",
            self.count
        );
        let braces = if labels.is_empty() {
            String::new()
        } else {
            format!("{{{labels}}}")
        };
        let _ = writeln!(out, "{name}_sum{braces} {}", self.sum);
        let _ = writeln!(out, "{name}_count{braces} {}", self.count);
    }
}

#[derive(Default)]
struct State {
    documents: BTreeMap<String, u64>,
    routing: BTreeMap<String, u64>,
    ocr: Histogram,
    delivery: Histogram,
    http: BTreeMap<(String, String, u16), Histogram>,
}

/// The process's metrics.
pub struct Metrics {
    state: Mutex<State>,
}

pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(|| Metrics {
        state: Mutex::new(State::default()),
    })
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// A document went through the pipeline with `status` (stored, duplicate,
    /// rejected, …).
    pub fn document(&self, status: &str) {
        self.with(|s| *s.documents.entry(status.to_string()).or_default() += 1);
    }

    /// A new document was routed to a postbox of `kind` (caseworker, clearing).
    pub fn routed(&self, kind: &str) {
        self.with(|s| *s.routing.entry(kind.to_string()).or_default() += 1);
    }

    pub fn ocr_page(&self, took: Duration) {
        self.with(|s| s.ocr.observe(OCR_BUCKETS, took.as_secs_f64()));
    }

    /// A long-poll answered with a change `took` after the change was published.
    pub fn postbox_delivery(&self, took: Duration) {
        self.with(|s| s.delivery.observe(DELIVERY_BUCKETS, took.as_secs_f64()));
    }

    pub fn http(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.with(|s| {
            s.http
                .entry((method.to_string(), route.to_string(), status))
                .or_default()
                .observe(HTTP_BUCKETS, took.as_secs_f64())
        });
    }

    /// The text exposition format, with `gauges` (name, help, value) appended.
    pub fn render(&self, gauges: &[(&str, &str, f64)]) -> String {
        let mut out = String::new();
        self.with(|s| {
            counter(
                &mut out,
                "eakte_documents_total",
                "Documents through the pipeline, by outcome.",
                "status",
                &s.documents,
            );
            counter(
                &mut out,
                "eakte_routing_total",
                "New documents routed, by kind of postbox.",
                "postbox",
                &s.routing,
            );
            let _ = writeln!(
                out,
                "# HELP eakte_ocr_page_seconds Time to recognise one page."
            );
            let _ = writeln!(out, "# TYPE eakte_ocr_page_seconds histogram");
            s.ocr
                .render(&mut out, "eakte_ocr_page_seconds", "", OCR_BUCKETS);
            let _ = writeln!(
                out,
                "# HELP eakte_postbox_delivery_seconds From a postbox change being durable to a waiting long-poll answering with it."
            );
            let _ = writeln!(out, "# TYPE eakte_postbox_delivery_seconds histogram");
            s.delivery.render(
                &mut out,
                "eakte_postbox_delivery_seconds",
                "",
                DELIVERY_BUCKETS,
            );
            let _ = writeln!(
                out,
                "# HELP eakte_http_request_duration_seconds HTTP request latency."
            );
            let _ = writeln!(out, "# TYPE eakte_http_request_duration_seconds histogram");
            for ((method, route, status), h) in &s.http {
                let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
                h.render(
                    &mut out,
                    "eakte_http_request_duration_seconds",
                    &labels,
                    HTTP_BUCKETS,
                );
            }
        });
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

fn counter(out: &mut String, name: &str, help: &str, label: &str, values: &BTreeMap<String, u64>) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
    for (value, n) in values {
        let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {n}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_the_exposition_format() {
        let m = Metrics {
            state: Mutex::new(State::default()),
        };
        m.document("stored");
        m.ocr_page(Duration::from_millis(300));
        m.http("GET", "/api/v1/search", 200, Duration::from_millis(4));
        let text = m.render(&[(
            "eakte_index_queue_depth",
            "Documents waiting for the index.",
            2.0,
        )]);
        assert!(
            text.contains("eakte_documents_total{status=\"stored\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("eakte_ocr_page_seconds_bucket{le=\"0.5\"} 1"),
            "{text}"
        );
        assert!(text.contains("eakte_ocr_page_seconds_count 1"), "{text}");
        assert!(
            text.contains("route=\"/api/v1/search\",status=\"200\",le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(text.contains("eakte_index_queue_depth 2"), "{text}");
    }
}
