using System.Text.RegularExpressions;
using k8s.Models;
using Microsoft.Extensions.Options;

namespace Harness.Runtimes.Kubernetes;

/// <summary>Reports every invalid setting at start-up, not the first.</summary>
public sealed partial class KubernetesRuntimeOptionsValidator : IValidateOptions<KubernetesRuntimeOptions>
{
    private static readonly string[] ServiceTypes = ["ClusterIP", "NodePort", "LoadBalancer"];

    public ValidateOptionsResult Validate(string? name, KubernetesRuntimeOptions options)
    {
        var errors = Errors(options);
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public static List<string> Errors(KubernetesRuntimeOptions options)
    {
        const string p = KubernetesRuntimeOptions.SectionName;
        var errors = new List<string>();
        if (!DnsLabel().IsMatch(options.Namespace ?? ""))
        {
            errors.Add($"{p}:Namespace: '{options.Namespace}' must be a DNS label (lowercase letters, digits, '-', at most 63)");
        }
        if (!LabelValue().IsMatch(options.AgentName ?? ""))
        {
            errors.Add($"{p}:AgentName: required; a label value (at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit)");
        }
        if (!IsQuantity(options.VolumeSize))
        {
            errors.Add($"{p}:VolumeSize: '{options.VolumeSize}' is not a Kubernetes quantity such as 1Gi or 500Mi");
        }
        if (string.IsNullOrWhiteSpace(options.ArchiveDir) || !Path.IsPathRooted(options.ArchiveDir))
        {
            errors.Add($"{p}:ArchiveDir: required; an absolute directory where the '{options.ArchivesClaimName}' PVC is mounted");
        }
        if (!DnsLabel().IsMatch(options.ArchivesClaimName ?? ""))
        {
            errors.Add($"{p}:ArchivesClaimName: '{options.ArchivesClaimName}' must be a PVC name");
        }
        if (string.IsNullOrWhiteSpace(options.JobImage))
        {
            errors.Add($"{p}:JobImage: required; an image with sh, tar and find (busybox)");
        }
        if (!ServiceTypes.Contains(options.ServiceType, StringComparer.Ordinal))
        {
            errors.Add($"{p}:ServiceType: '{options.ServiceType}' must be one of {string.Join(", ", ServiceTypes)}");
        }
        if (options.ApiServerUrl is { Length: > 0 } url && !Uri.TryCreate(url, UriKind.Absolute, out _))
        {
            errors.Add($"{p}:ApiServerUrl: '{url}' is not an absolute URL");
        }
        if (options.KubeconfigPath is { Length: > 0 } kubeconfig && !File.Exists(kubeconfig))
        {
            errors.Add($"{p}:KubeconfigPath: '{kubeconfig}' does not exist");
        }
        if (options.RunAsUser <= 0 && options.RunAsNonRoot)
        {
            errors.Add($"{p}:RunAsUser: must be above 0 while RunAsNonRoot is on");
        }
        Positive(errors, options.DeleteTimeout, "DeleteTimeout");
        Positive(errors, options.JobTimeout, "JobTimeout");
        Positive(errors, options.PollInterval, "PollInterval");
        Positive(errors, options.RequestTimeout, "RequestTimeout");
        if (options.StartTimeout < TimeSpan.Zero)
        {
            errors.Add($"{p}:StartTimeout: must not be negative");
        }
        if (options.DeleteGracePeriodSeconds < 0)
        {
            errors.Add($"{p}:DeleteGracePeriodSeconds: must not be negative");
        }
        return errors;
    }

    private static void Positive(List<string> errors, TimeSpan value, string key)
    {
        if (value <= TimeSpan.Zero)
        {
            errors.Add($"{KubernetesRuntimeOptions.SectionName}:{key}: must be positive");
        }
    }

    private static bool IsQuantity(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }
        try
        {
            _ = new ResourceQuantity(value).ToDecimal();
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$", RegexOptions.CultureInvariant)]
    private static partial Regex LabelValue();
}
