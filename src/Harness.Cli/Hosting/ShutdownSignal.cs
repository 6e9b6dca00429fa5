using System.Runtime.InteropServices;

namespace Harness.Cli.Hosting;

/// <summary>Completes on the first SIGINT (Ctrl-C), SIGTERM or SIGQUIT, and keeps the process alive until the caller finishes.</summary>
internal sealed class ShutdownSignal : IDisposable
{
    private readonly TaskCompletionSource<PosixSignal> _signalled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly PosixSignalRegistration[] _registrations;

    public ShutdownSignal()
    {
        _registrations =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle),
            PosixSignalRegistration.Create(PosixSignal.SIGQUIT, Handle),
        ];
    }

    public Task<PosixSignal> Signalled => _signalled.Task;

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;
        _signalled.TrySetResult(context.Signal);
    }

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }
    }
}
