package bot

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the webhook's Prometheus series.
type Metrics struct {
	Requests   *prometheus.CounterVec
	Latency    *prometheus.HistogramVec
	Duplicates prometheus.Counter
	Rejected   *prometheus.CounterVec
	Deferred   prometheus.Counter
	Replayed   prometheus.Counter
	// Phase is where a message's time goes: the conversation (Redis and the
	// steps' own writes) and the journal (SQLite group commit).
	Phase *prometheus.HistogramVec
	// Conns are the connections open on the capped listener, ConnsRefused
	// those closed at once because the cap was reached (LimitListener).
	Conns        prometheus.Gauge
	ConnsRefused prometheus.Counter

	// The series every message observes, looked up once (a label lookup
	// hashes the values and takes a lock each time).
	phases  map[string]prometheus.Observer
	latency map[string]prometheus.Observer
}

// ObservePhase records how long a phase of an accepted message took.
func (m *Metrics) ObservePhase(phase string, seconds float64) {
	if o, ok := m.phases[phase]; ok {
		o.Observe(seconds)
		return
	}
	m.Phase.WithLabelValues(phase).Observe(seconds)
}

func (m *Metrics) observeLatency(mode string, seconds float64) {
	if o, ok := m.latency[mode]; ok {
		o.Observe(seconds)
		return
	}
	m.Latency.WithLabelValues(mode).Observe(seconds)
}

// NewMetrics registers the webhook's series on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_webhook_requests_total",
			Help: "Webhook requests by message type and outcome.",
		}, []string{"type", "outcome"}),
		Latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lianxin_webhook_request_duration_seconds",
			Help:    "Time from request to reply, by encryption mode.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2, 3, 4, 5},
		}, []string{"mode"}),
		Duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lianxin_webhook_duplicates_suppressed_total",
			Help: "Retried messages answered from the stored reply instead of being processed again.",
		}),
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lianxin_webhook_rejected_total",
			Help: "Requests refused, by reason.",
		}, []string{"reason"}),
		Deferred: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lianxin_webhook_deferred_total",
			Help: "Messages journaled while Redis was unavailable, to be replayed.",
		}),
		Replayed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lianxin_webhook_replayed_total",
			Help: "Deferred messages replayed into their conversations.",
		}),
		Phase: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "lianxin_webhook_phase_duration_seconds",
			Help:    "Time spent per phase of an accepted message: conversation, journal.",
			Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .025, .05, .1, .25, 1, 4},
		}, []string{"phase"}),
		Conns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lianxin_http_connections",
			Help: "Connections open on the webhook's address.",
		}),
		ConnsRefused: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lianxin_http_connections_refused_total",
			Help: "Connections closed at once because LIANXIN_MAX_CONNS were open.",
		}),
	}
	m.phases, m.latency = map[string]prometheus.Observer{}, map[string]prometheus.Observer{}
	for _, p := range []string{"conversation", "journal", "admit", "step", "commit"} {
		m.phases[p] = m.Phase.WithLabelValues(p)
	}
	for _, mode := range []string{"plain", "aes", "compat"} {
		m.latency[mode] = m.Latency.WithLabelValues(mode)
	}
	reg.MustRegister(m.Requests, m.Latency, m.Duplicates, m.Rejected, m.Deferred, m.Replayed, m.Phase, m.Conns, m.ConnsRefused)
	return m
}
