using System.Reflection;
using System.Runtime.InteropServices;

namespace KerasStyle.Engine;

/// <summary>
/// libtorch settings that TorchSharp does not expose, set once per process through libtorch's own exported C++
/// entry points (the ones PyTorch's <c>torch.backends</c> flags call). Today one: NNPACK off, as
/// <c>torch.backends.nnpack.set_flags(False)</c>. Why: libtorch probes NNPACK on its way to a convolution it will
/// not hand to oneDNN, and on CPUs NNPACK does not support (AMD Zen 5 among them) the probe writes "Could not
/// initialize NNPACK! Reason: Unsupported hardware." to standard error; where it is supported NNPACK is one more
/// unchecked kernel. The library never relies on NNPACK.
/// </summary>
internal static unsafe class LibTorchSwitches
{
    // Itanium C++ ABI names in libtorch_cpu for at::globalContext() and at::Context::setUserEnabledNNPACK(bool).
    private const string GlobalContext = "_ZN2at13globalContextEv";
    private const string SetUserEnabledNnpack = "_ZN2at7Context20setUserEnabledNNPACKEb";
    private const string UserEnabledNnpack = "_ZNK2at7Context17userEnabledNNPACKEv";
    private static readonly Lazy<bool> Applied = new(Apply);

    /// <summary>Whether NNPACK is off (false where libtorch_cpu or its entry points could not be found).</summary>
    public static bool NnpackDisabled => Applied.Value;

    /// <summary>Applies the switches once; cheap afterwards.</summary>
    public static void EnsureApplied() => _ = Applied.Value;

    private static bool Apply()
    {
        // TorchSharp loads libtorch on first use; make sure it has, so the handle below is the library it uses.
        _ = TorchSharp.torch.get_num_threads();
        if (!NativeLibrary.TryLoad("libtorch_cpu", typeof(TorchSharp.torch).Assembly, DllImportSearchPath.AssemblyDirectory | DllImportSearchPath.SafeDirectories, out var library)
            || !NativeLibrary.TryGetExport(library, GlobalContext, out var globalContext)
            || !NativeLibrary.TryGetExport(library, SetUserEnabledNnpack, out var setEnabled)
            || !NativeLibrary.TryGetExport(library, UserEnabledNnpack, out var getEnabled))
        {
            return false;
        }

        var context = ((delegate* unmanaged<nint>)globalContext)();
        ((delegate* unmanaged<nint, byte, void>)setEnabled)(context, 0);
        return ((delegate* unmanaged<nint, byte>)getEnabled)(context) == 0;
    }
}
