using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Harness.Testing.Kubernetes;

public sealed partial class FakeKubernetesApiServer
{
    /// <summary>The resources this fake serves, as the API names them.</summary>
    private sealed record ResourceType(string Resource, string Group, string Version, string Kind, bool Dns1035Name = false)
    {
        public string ApiVersion => Group.Length == 0 ? Version : $"{Group}/{Version}";

        /// <summary>How a message names the resource: <c>pods</c>, <c>jobs.batch</c>.</summary>
        public string Qualified => Group.Length == 0 ? Resource : $"{Resource}.{Group}";
    }

    private static readonly Dictionary<string, ResourceType> Resources = new(StringComparer.Ordinal)
    {
        ["pods"] = new("pods", "", "v1", "Pod"),
        ["services"] = new("services", "", "v1", "Service", Dns1035Name: true),
        ["persistentvolumeclaims"] = new("persistentvolumeclaims", "", "v1", "PersistentVolumeClaim"),
        ["jobs"] = new("jobs", "batch", "v1", "Job"),
    };

    /// <summary>A namespaced resource path: <c>/api/v1/namespaces/{ns}/{resource}[/{name}]</c> or <c>/apis/{group}/{version}/…</c>.</summary>
    private sealed partial record Route(string Verb, string Group, string Namespace, string Resource, string? Name)
    {
        public static Route? Parse(string method, string path, bool watch)
        {
            var match = PathPattern().Match(path);
            if (!match.Success)
            {
                return null;
            }
            var group = match.Groups["group"].Success ? match.Groups["group"].Value : "";
            var name = match.Groups["name"].Success ? match.Groups["name"].Value : null;
            var verb = (method, name) switch
            {
                ("GET", null) => watch ? "watch" : "list",
                ("GET", _) => "get",
                ("POST", null) => "create",
                ("DELETE", null) => "deletecollection",
                ("DELETE", _) => "delete",
                ("PUT", _) => "update",
                ("PATCH", _) => "patch",
                _ => method.ToLowerInvariant(),
            };
            return new Route(verb, group, match.Groups["ns"].Value, match.Groups["resource"].Value, name);
        }

        [GeneratedRegex("^/(?:api/v1|apis/(?<group>[a-z0-9.]+)/v1)/namespaces/(?<ns>[^/]+)/(?<resource>[a-z]+)(?:/(?<name>[^/]+))?/?$")]
        private static partial Regex PathPattern();
    }

    private (int, JsonObject) List(ResourceType type, string @namespace, string? labelSelector)
    {
        LabelSelector selector;
        try
        {
            selector = LabelSelector.Parse(labelSelector);
        }
        catch (FormatException e)
        {
            return (400, StatusObject(400, "BadRequest", $"unable to parse requirement: {e.Message}", null, null));
        }
        lock (_lock)
        {
            var items = new JsonArray();
            foreach (var (key, value) in _objects.OrderBy(o => o.Key.Name, StringComparer.Ordinal))
            {
                if (key.Resource == type.Resource && key.Namespace == @namespace && selector.Matches(value["metadata"]?["labels"] as JsonObject))
                {
                    var item = (JsonObject)value.DeepClone();
                    // A list's items carry no apiVersion and kind of their own.
                    item.Remove("apiVersion");
                    item.Remove("kind");
                    items.Add(item);
                }
            }
            return (200, new JsonObject
            {
                ["kind"] = type.Kind + "List",
                ["apiVersion"] = type.ApiVersion,
                ["metadata"] = new JsonObject { ["resourceVersion"] = _resourceVersion.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                ["items"] = items,
            });
        }
    }

    private (int, JsonObject) Read(ResourceType type, string @namespace, string name)
    {
        lock (_lock)
        {
            return _objects.TryGetValue((type.Resource, @namespace, name), out var value)
                ? (200, (JsonObject)value.DeepClone())
                : (404, NotFound(type, name));
        }
    }

    private (int, JsonObject) Create(ResourceType type, string @namespace, JsonObject? body)
    {
        if (body is null)
        {
            return (400, StatusObject(400, "BadRequest", "the body of the request was empty", null, null));
        }
        if (!Namespaces.ContainsKey(@namespace))
        {
            return (404, StatusObject(404, "NotFound", $"namespaces \"{@namespace}\" not found", @namespace, "namespaces"));
        }
        if (body["metadata"]?["namespace"]?.GetValue<string>() is { Length: > 0 } bodyNamespace && bodyNamespace != @namespace)
        {
            return (400, StatusObject(400, "BadRequest", "the namespace of the provided object does not match the namespace sent on the request", null, null));
        }
        if (body["apiVersion"]?.GetValue<string>() is { } apiVersion && apiVersion != type.ApiVersion
            || body["kind"]?.GetValue<string>() is { } kind && kind != type.Kind)
        {
            return (400, StatusObject(400, "BadRequest", $"the API version in the data ({body["apiVersion"]}) does not match the expected API version ({type.ApiVersion})", null, null));
        }
        var name = body["metadata"]?["name"]?.GetValue<string>();
        var invalid = Validate(type, name, body);
        if (invalid.Count > 0)
        {
            var message = $"{type.Kind} \"{name}\" is invalid: {string.Join(", ", invalid)}";
            return (422, StatusObject(422, "Invalid", message, name, type.Resource, type.Group));
        }
        lock (_lock)
        {
            if (_objects.ContainsKey((type.Resource, @namespace, name!)))
            {
                return (409, StatusObject(409, "AlreadyExists", $"{type.Qualified} \"{name}\" already exists", name, type.Resource, type.Group));
            }
            Admit(type, @namespace, body);
            _objects[(type.Resource, @namespace, name!)] = body;
            if (type.Resource == "persistentvolumeclaims" && !_claimDirectories.ContainsKey(name!))
            {
                _claimDirectories[name!] = Directory.CreateDirectory(Path.Combine(_root, "claims", @namespace, name!)).FullName;
            }
            return (201, (JsonObject)body.DeepClone());
        }
    }

    private (int, JsonObject) Delete(ResourceType type, string @namespace, string name, string? gracePeriod, string? propagationPolicy)
    {
        lock (_lock)
        {
            if (!_objects.TryGetValue((type.Resource, @namespace, name), out var value))
            {
                return (404, NotFound(type, name));
            }
            var metadata = (JsonObject)value["metadata"]!;
            switch (type.Resource)
            {
                case "pods" when IsScheduled(value):
                    // Graceful: the pod stays, terminating, until the kubelet has stopped it.
                    if (metadata["deletionTimestamp"] is null)
                    {
                        var seconds = gracePeriod is { Length: > 0 } ? long.Parse(gracePeriod, System.Globalization.CultureInfo.InvariantCulture)
                            : value["spec"]?["terminationGracePeriodSeconds"]?.GetValue<long>() ?? 30;
                        metadata["deletionTimestamp"] = Now();
                        metadata["deletionGracePeriodSeconds"] = seconds;
                        metadata["resourceVersion"] = NextResourceVersion();
                    }
                    return (200, (JsonObject)value.DeepClone());
                case "persistentvolumeclaims":
                    // The kubernetes.io/pvc-protection finalizer holds it until no pod uses it.
                    metadata["deletionTimestamp"] ??= Now();
                    metadata["deletionGracePeriodSeconds"] = 0;
                    metadata["resourceVersion"] = NextResourceVersion();
                    return (200, (JsonObject)value.DeepClone());
                case "jobs":
                    _objects.Remove((type.Resource, @namespace, name));
                    _jobPropagation[name] = propagationPolicy;
                    return (200, new JsonObject
                    {
                        ["kind"] = "Status", ["apiVersion"] = "v1", ["metadata"] = new JsonObject(), ["status"] = "Success",
                        ["details"] = new JsonObject { ["name"] = name, ["group"] = type.Group, ["kind"] = type.Resource, ["uid"] = metadata["uid"]!.GetValue<string>() },
                    });
                default:
                    _objects.Remove((type.Resource, @namespace, name));
                    return (200, (JsonObject)value.DeepClone());
            }
        }
    }

    /// <summary>An unscheduled pod has no kubelet to wait for: the API server deletes it at once.</summary>
    private static bool IsScheduled(JsonObject pod) => pod["spec"]?["nodeName"] is not null;

    private readonly Dictionary<string, string?> _jobPropagation = new(StringComparer.Ordinal);

    /// <summary>The propagationPolicy a job was deleted with (null when none was given).</summary>
    public bool TryGetJobDeletion(string name, out string? propagationPolicy)
    {
        lock (_lock)
        {
            return _jobPropagation.TryGetValue(name, out propagationPolicy);
        }
    }

    /// <summary>What the API server's admission adds: metadata, defaults, initial status.</summary>
    private void Admit(ResourceType type, string @namespace, JsonObject body)
    {
        body["apiVersion"] = type.ApiVersion;
        body["kind"] = type.Kind;
        var metadata = (JsonObject)body["metadata"]!;
        metadata["namespace"] = @namespace;
        metadata["uid"] = Guid.NewGuid().ToString();
        metadata["resourceVersion"] = NextResourceVersion();
        metadata["creationTimestamp"] = Now();
        var spec = body["spec"] as JsonObject ?? new JsonObject();
        body["spec"] = spec;
        switch (type.Resource)
        {
            case "pods":
                spec["terminationGracePeriodSeconds"] ??= 30;
                spec["dnsPolicy"] ??= "ClusterFirst";
                spec["schedulerName"] ??= "default-scheduler";
                spec["serviceAccountName"] ??= "default";
                spec["restartPolicy"] ??= "Always";
                var guaranteed = spec["containers"]!.AsArray().All(c => c?["resources"]?["limits"] is JsonObject limits && limits.Count > 0);
                body["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = guaranteed ? "Guaranteed" : "BestEffort" };
                break;
            case "services":
                var ip = $"10.96.0.{Interlocked.Increment(ref _nextIp)}";
                spec["clusterIP"] = ip;
                spec["clusterIPs"] = new JsonArray(ip);
                spec["ipFamilies"] = new JsonArray("IPv4");
                spec["ipFamilyPolicy"] = "SingleStack";
                spec["sessionAffinity"] ??= "None";
                spec["type"] ??= "ClusterIP";
                spec["internalTrafficPolicy"] ??= "Cluster";
                foreach (var port in spec["ports"]?.AsArray() ?? [])
                {
                    port!["protocol"] ??= "TCP";
                    port["targetPort"] ??= port["port"]!.DeepClone();
                }
                body["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() };
                break;
            case "persistentvolumeclaims":
                metadata["finalizers"] = new JsonArray("kubernetes.io/pvc-protection");
                spec["volumeMode"] ??= "Filesystem";
                spec["storageClassName"] ??= "standard";
                body["status"] = new JsonObject { ["phase"] = "Pending" };
                break;
            case "jobs":
                metadata["generation"] = 1;
                var uid = metadata["uid"]!.GetValue<string>();
                spec["parallelism"] ??= 1;
                spec["completions"] ??= 1;
                spec["completionMode"] ??= "NonIndexed";
                spec["suspend"] ??= false;
                spec["podReplacementPolicy"] ??= "TerminatingOrFailed";
                spec["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["batch.kubernetes.io/controller-uid"] = uid } };
                var template = (JsonObject)spec["template"]!;
                var templateMetadata = template["metadata"] as JsonObject ?? new JsonObject();
                template["metadata"] = templateMetadata;
                var labels = templateMetadata["labels"] as JsonObject ?? new JsonObject();
                templateMetadata["labels"] = labels;
                labels["batch.kubernetes.io/controller-uid"] = uid;
                labels["batch.kubernetes.io/job-name"] = metadata["name"]!.GetValue<string>();
                labels["controller-uid"] = uid;
                labels["job-name"] = metadata["name"]!.GetValue<string>();
                body["status"] = new JsonObject();
                break;
        }
    }

    private static List<string> Validate(ResourceType type, string? name, JsonObject body)
    {
        var errors = new List<string>();
        if (string.IsNullOrEmpty(name))
        {
            errors.Add("metadata.name: Required value: name or generateName is required");
            return errors;
        }
        if (type.Dns1035Name ? !Dns1035().IsMatch(name) : name.Length > 253 || !Dns1123Subdomain().IsMatch(name))
        {
            errors.Add(type.Dns1035Name
                ? $"metadata.name: Invalid value: \"{name}\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character"
                : $"metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'");
        }
        if (type.Resource == "jobs" && name.Length > 63)
        {
            errors.Add($"metadata.name: Invalid value: \"{name}\": must be no more than 63 characters");
        }
        foreach (var (key, value) in body["metadata"]?["labels"] as JsonObject ?? [])
        {
            var text = value?.GetValue<string>() ?? "";
            if (text.Length > 63 || (text.Length > 0 && !LabelValue().IsMatch(text)))
            {
                errors.Add($"metadata.labels: Invalid value: \"{text}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (label {key})");
            }
        }
        var spec = body["spec"] as JsonObject;
        switch (type.Resource)
        {
            case "pods":
                ValidatePodSpec(spec, "spec", errors);
                break;
            case "jobs":
                var template = spec?["template"]?["spec"] as JsonObject;
                ValidatePodSpec(template, "spec.template.spec", errors);
                if (template?["restartPolicy"]?.GetValue<string>() is not ("Never" or "OnFailure"))
                {
                    errors.Add("spec.template.spec.restartPolicy: Required value: valid values: \"OnFailure\", \"Never\"");
                }
                break;
            case "services":
                if (spec?["ports"] is not JsonArray { Count: > 0 })
                {
                    errors.Add("spec.ports: Required value");
                }
                break;
            case "persistentvolumeclaims":
                if (spec?["accessModes"] is not JsonArray { Count: > 0 })
                {
                    errors.Add("spec.accessModes: Required value: at least 1 access mode is required");
                }
                if (spec?["resources"]?["requests"]?["storage"] is null)
                {
                    errors.Add("spec.resources[storage]: Required value");
                }
                break;
        }
        return errors;
    }

    private static void ValidatePodSpec(JsonObject? spec, string path, List<string> errors)
    {
        if (spec?["containers"] is not JsonArray { Count: > 0 } containers)
        {
            errors.Add($"{path}.containers: Required value");
            return;
        }
        var volumes = (spec["volumes"] as JsonArray ?? []).Select(v => v?["name"]?.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < containers.Count; i++)
        {
            if (containers[i]?["image"]?.GetValue<string>() is not { Length: > 0 })
            {
                errors.Add($"{path}.containers[{i}].image: Required value");
            }
            foreach (var mount in containers[i]?["volumeMounts"] as JsonArray ?? [])
            {
                if (!volumes.Contains(mount?["name"]?.GetValue<string>()))
                {
                    errors.Add($"{path}.containers[{i}].volumeMounts.name: Not found: \"{mount?["name"]}\"");
                }
            }
        }
    }

    private static JsonObject NotFound(ResourceType type, string name) =>
        StatusObject(404, "NotFound", $"{type.Qualified} \"{name}\" not found", name, type.Resource, type.Group);

    /// <summary>A <c>kind: Status</c> failure as the API server writes it.</summary>
    private static JsonObject StatusObject(int code, string reason, string message, string? name, string? kind, string? group = null)
    {
        var details = new JsonObject();
        if (name is not null)
        {
            details["name"] = name;
        }
        if (group is { Length: > 0 })
        {
            details["group"] = group;
        }
        if (kind is not null)
        {
            details["kind"] = kind;
        }
        return new JsonObject
        {
            ["kind"] = "Status",
            ["apiVersion"] = "v1",
            ["metadata"] = new JsonObject(),
            ["status"] = "Failure",
            ["message"] = message,
            ["reason"] = reason,
            ["details"] = details,
            ["code"] = code,
        };
    }

    [GeneratedRegex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex Dns1035();

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")]
    private static partial Regex Dns1123Subdomain();

    [GeneratedRegex("^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")]
    private static partial Regex LabelValue();
}
