using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Harness.Server.Features.Metrics;

/// <summary>
/// Aggregates this host's counters and histograms (the server's own meter and ASP.NET Core's request
/// duration) and writes them in the Prometheus text format. Only meters made by this host's
/// <see cref="IMeterFactory"/> are heard, so several servers in one process do not mix.
/// </summary>
public sealed class MetricsCollector : IDisposable
{
    /// <summary>Which instruments are exposed, under which name, keeping which tags (renamed).</summary>
    private static readonly Dictionary<(string Meter, string Instrument), Exposed> Exposure = new()
    {
        [(HarnessMetrics.MeterName, "harness.runs.created")] = new("harness_runs_created_total", []),
        [(HarnessMetrics.MeterName, "harness.tasks.leased")] = new("harness_tasks_leased_total", []),
        [(HarnessMetrics.MeterName, "harness.dispatch.latency")] = new("harness_dispatch_latency_seconds", []),
        [(HarnessMetrics.MeterName, "harness.callback.events")] = new("harness_callback_events_total", [("type", "type")]),
        [(HarnessMetrics.MeterName, "harness.heartbeats")] = new("harness_heartbeats_total", []),
        [(HarnessMetrics.MeterName, "harness.leases.released")] = new("harness_leases_released_total", []),
        [(HarnessMetrics.MeterName, "harness.callback.groups")] = new("harness_callback_groups_total", []),
        [(HarnessMetrics.MeterName, "harness.callbacks.grouped")] = new("harness_callbacks_grouped_total", []),
        [("Microsoft.AspNetCore.Hosting", "http.server.request.duration")] = new(
            "harness_http_server_request_duration_seconds",
            [("http.request.method", "method"), ("http.route", "route"), ("http.response.status_code", "code")],
            "HTTP requests served, by method, route and status code."),
    };

    private readonly MeterListener _listener = new();
    private readonly IMeterFactory _meters;
    private readonly ConcurrentDictionary<Instrument, Series> _series = new();

    public MetricsCollector(IMeterFactory meters)
    {
        _meters = meters;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == _meters && Exposure.TryGetValue((instrument.Meter.Name, instrument.Name), out var exposed))
            {
                _series[instrument] = new Series(exposed, instrument.Description ?? exposed.Name, instrument is Histogram<double>);
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (_series.TryGetValue(instrument, out var series))
        {
            series.Record(value, tags);
        }
    }

    /// <summary>Appends every exposed instrument, in a stable order, HELP and TYPE included.</summary>
    public void WriteTo(StringBuilder output)
    {
        foreach (var series in _series.Values.OrderBy(s => s.Exposed.Name, StringComparer.Ordinal))
        {
            series.WriteTo(output);
        }
    }

    public void Dispose() => _listener.Dispose();

    private sealed record Exposed(string Name, (string Tag, string Label)[] Labels, string? Help = null);

    private sealed class Series(Exposed exposed, string help, bool histogram)
    {
        private readonly Lock _lock = new();
        private readonly Dictionary<string, double[]> _values = exposed.Labels.Length == 0
            ? new(StringComparer.Ordinal) { [""] = new double[histogram ? 2 + HarnessMetrics.SecondsBuckets.Length : 1] } // a series without labels reads 0 from the start
            : new(StringComparer.Ordinal);

        public Exposed Exposed => exposed;

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labels = Labels(tags);
            lock (_lock)
            {
                if (!_values.TryGetValue(labels, out var slots))
                {
                    // Counter: [sum]. Histogram: [sum, count, bucket 0, …, bucket n-1].
                    slots = new double[histogram ? 2 + HarnessMetrics.SecondsBuckets.Length : 1];
                    _values[labels] = slots;
                }
                slots[0] += value;
                if (histogram)
                {
                    slots[1]++;
                    for (var i = 0; i < HarnessMetrics.SecondsBuckets.Length; i++)
                    {
                        if (value <= HarnessMetrics.SecondsBuckets[i])
                        {
                            slots[2 + i]++;
                        }
                    }
                }
            }
        }

        private string Labels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (exposed.Labels.Length == 0)
            {
                return "";
            }
            var parts = new List<string>(exposed.Labels.Length);
            foreach (var (tag, label) in exposed.Labels)
            {
                string? value = null;
                foreach (var t in tags)
                {
                    if (t.Key == tag)
                    {
                        value = Convert.ToString(t.Value, CultureInfo.InvariantCulture);
                        break;
                    }
                }
                parts.Add($"{label}=\"{PrometheusText.Escape(value ?? "")}\"");
            }
            return string.Join(",", parts);
        }

        public void WriteTo(StringBuilder output)
        {
            var name = exposed.Name;
            PrometheusText.Header(output, name, exposed.Help ?? help, histogram ? "histogram" : "counter");
            lock (_lock)
            {
                foreach (var (labels, slots) in _values.OrderBy(v => v.Key, StringComparer.Ordinal))
                {
                    if (!histogram)
                    {
                        PrometheusText.Sample(output, name, labels, slots[0]);
                        continue;
                    }
                    var prefix = labels.Length == 0 ? "" : labels + ",";
                    for (var i = 0; i < HarnessMetrics.SecondsBuckets.Length; i++)
                    {
                        PrometheusText.Sample(output, name + "_bucket", $"{prefix}le=\"{PrometheusText.Number(HarnessMetrics.SecondsBuckets[i])}\"", slots[2 + i]);
                    }
                    PrometheusText.Sample(output, name + "_bucket", $"{prefix}le=\"+Inf\"", slots[1]);
                    PrometheusText.Sample(output, name + "_sum", labels, slots[0]);
                    PrometheusText.Sample(output, name + "_count", labels, slots[1]);
                }
            }
        }
    }
}
