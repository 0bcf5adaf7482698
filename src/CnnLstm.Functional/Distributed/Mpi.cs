using System.Runtime.InteropServices;

namespace KerasStyle.Distributed;

/// <summary>
/// A thin layer over Open MPI's C library (<c>libmpi.so.40</c>, Debian's <c>openmpi-bin</c>/<c>libopenmpi3</c>), loaded
/// only when a <see cref="DataParallel"/> distribution is created. Handles are Open MPI's: pointers to its predefined
/// objects (<c>ompi_mpi_comm_world</c>, <c>ompi_mpi_float</c>, <c>ompi_mpi_op_sum</c>...), read with
/// <see cref="NativeLibrary.GetExport"/>. Every call is made under one lock (the library is initialized with
/// <c>MPI_THREAD_SERIALIZED</c>), and a non-zero return code throws <see cref="MpiException"/>.
/// </summary>
internal static unsafe class Mpi
{
    /// <summary>The library's file name (Open MPI 4.x).</summary>
    public const string LibraryName = "libmpi.so.40";

    /// <summary>Environment variables one of which an MPI launcher sets in every process it starts (Open MPI's mpirun, PMI and PMIx launchers such as srun).</summary>
    public static readonly string[] LauncherVariables = { "OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK" };

    private const int ThreadSerialized = 2;
    private const int RtldNow = 2;
    private const int RtldGlobal = 0x100;

    private static readonly object Gate = new();
    private static IntPtr library;
    private static IntPtr commWorld;
    private static IntPtr typeFloat;
    private static IntPtr typeDouble;
    private static IntPtr typeByte;
    private static IntPtr typeInt64;
    private static IntPtr opSum;
    private static IntPtr opMax;
    private static IntPtr opMin;
    private static delegate* unmanaged<int*, int> initialized;
    private static delegate* unmanaged<int*, int> finalizedFn;
    private static delegate* unmanaged<int*, IntPtr*, int, int*, int> initThread;
    private static delegate* unmanaged<int> finalize;
    private static delegate* unmanaged<IntPtr, int*, int> commRank;
    private static delegate* unmanaged<IntPtr, int*, int> commSize;
    private static delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, int> allreduce;
    private static delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int> bcast;
    private static delegate* unmanaged<IntPtr, int> barrier;
    private static delegate* unmanaged<void*, int, IntPtr, void*, int, IntPtr, IntPtr, int> allgather;
    private static delegate* unmanaged<void*, int, IntPtr, void*, int*, int*, IntPtr, IntPtr, int> allgatherv;
    private static delegate* unmanaged<IntPtr, int, int> abort;

    /// <summary>Reduction operations.</summary>
    public enum Op
    {
        /// <summary>Element-wise sum.</summary>
        Sum,

        /// <summary>Element-wise maximum.</summary>
        Max,

        /// <summary>Element-wise minimum.</summary>
        Min,
    }

    /// <summary>Whether the library has been loaded and initialized by this process.</summary>
    public static bool IsInitialized { get; private set; }

    /// <summary>This process's rank in <c>MPI_COMM_WORLD</c>.</summary>
    public static int Rank { get; private set; }

    /// <summary>The number of processes in <c>MPI_COMM_WORLD</c>.</summary>
    public static int Size { get; private set; }

    /// <summary>The name of the launcher variable found, or null when the process was not started by an MPI launcher.</summary>
    public static string? LauncherVariable() => LauncherVariables.FirstOrDefault(v => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v)));

    /// <summary>
    /// Loads the library, initializes MPI (once per process) and reads rank and size; finalizes MPI when the process exits.
    /// </summary>
    /// <exception cref="InvalidOperationException">The process was not started by an MPI launcher, or libmpi cannot be loaded.</exception>
    public static void Initialize()
    {
        lock (Gate)
        {
            if (IsInitialized)
            {
                return;
            }

            if (LauncherVariable() is null)
            {
                throw new InvalidOperationException(
                    $"DataParallel: this process was not started by an MPI launcher (none of {string.Join(", ", LauncherVariables)} is set). " +
                    "Start every process with it, e.g. 'mpirun -np 2 dotnet YourProgram.dll' (Open MPI, apt-get install openmpi-bin) or 'srun'; " +
                    "or train in one process by not setting a distribution.");
            }

            Load();
            int flag;
            Check(initialized(&flag), "MPI_Initialized");
            if (flag == 0)
            {
                int provided;
                Check(initThread(null, null, ThreadSerialized, &provided), "MPI_Init_thread");
                if (provided < ThreadSerialized)
                {
                    throw new InvalidOperationException($"DataParallel: the MPI library provides thread level {provided}; MPI_THREAD_SERIALIZED ({ThreadSerialized}) or higher is needed.");
                }

                AppDomain.CurrentDomain.ProcessExit += (_, _) => FinalizeMpi();
            }

            int rank, size;
            Check(commRank(commWorld, &rank), "MPI_Comm_rank");
            Check(commSize(commWorld, &size), "MPI_Comm_size");
            Rank = rank;
            Size = size;
            IsInitialized = true;
        }
    }

    /// <summary>In-place sum (or other op) of <paramref name="buffer"/> over all ranks.</summary>
    public static void Allreduce(Span<float> buffer, Op op = Op.Sum)
    {
        fixed (float* data = buffer)
        {
            AllreduceRaw(data, buffer.Length, typeFloat, sizeof(float), op);
        }
    }

    /// <summary>In-place sum (or other op) of <paramref name="buffer"/> over all ranks.</summary>
    public static void Allreduce(Span<double> buffer, Op op = Op.Sum)
    {
        fixed (double* data = buffer)
        {
            AllreduceRaw(data, buffer.Length, typeDouble, sizeof(double), op);
        }
    }

    /// <summary>In-place sum of <paramref name="count"/> floats at <paramref name="data"/> (a tensor's memory) over all ranks.</summary>
    public static void AllreduceFloats(IntPtr data, long count) => AllreduceRaw((void*)data, count, typeFloat, sizeof(float), Op.Sum);

    /// <summary>Rank <paramref name="root"/>'s <paramref name="count"/> bytes at <paramref name="data"/> copied to every rank.</summary>
    public static void Broadcast(IntPtr data, long count, int root = 0)
    {
        RequireInitialized();
        lock (Gate)
        {
            for (long done = 0; done < count;)
            {
                var chunk = (int)Math.Min(int.MaxValue, count - done);
                Check(bcast((byte*)data + done, chunk, typeByte, root, commWorld), "MPI_Bcast");
                done += chunk;
            }
        }
    }

    /// <summary>Rank <paramref name="root"/>'s values copied into <paramref name="buffer"/> on every rank.</summary>
    public static void Broadcast<T>(Span<T> buffer, int root = 0)
        where T : unmanaged
    {
        fixed (T* data = buffer)
        {
            Broadcast((IntPtr)data, (long)buffer.Length * sizeof(T), root);
        }
    }

    /// <summary>
    /// Every rank's <paramref name="send"/> (the same length on every rank, e.g. its counts for a following
    /// <see cref="Allgatherv(ReadOnlySpan{long}, Span{long}, ReadOnlySpan{long})"/>) into <paramref name="receive"/>,
    /// in rank order (<c>MPI_Allgather</c> of <c>MPI_INT64_T</c>).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="receive"/> is not <see cref="Size"/> x the length of <paramref name="send"/>.</exception>
    public static void Allgather(ReadOnlySpan<long> send, Span<long> receive)
    {
        RequireInitialized();
        if (receive.Length != (long)send.Length * Size)
        {
            throw new ArgumentException($"MPI_Allgather: the receive buffer holds {receive.Length} values; {Size} ranks x {send.Length} are needed.", nameof(receive));
        }

        fixed (long* from = send)
        fixed (long* to = receive)
        {
            lock (Gate)
            {
                Check(allgather(from, send.Length, typeInt64, to, send.Length, typeInt64, commWorld), "MPI_Allgather");
            }
        }
    }

    /// <summary>
    /// Every rank's int64 <paramref name="send"/> concatenated in rank order into <paramref name="receive"/>
    /// (<c>MPI_Allgatherv</c>); <paramref name="counts"/>[r] is rank r's length (from <see cref="Allgather"/>).
    /// </summary>
    /// <exception cref="ArgumentException">This rank's length is not its entry of <paramref name="counts"/>, or
    /// <paramref name="receive"/> is not their sum long.</exception>
    /// <exception cref="InvalidOperationException">A count or the total exceeds <see cref="int.MaxValue"/> (MPI's counts are <c>int</c>).</exception>
    public static void Allgatherv(ReadOnlySpan<long> send, Span<long> receive, ReadOnlySpan<long> counts)
    {
        fixed (long* from = send)
        fixed (long* to = receive)
        {
            AllgathervRaw(from, send.Length, to, receive.Length, counts, typeInt64, "int64");
        }
    }

    /// <summary>
    /// <see cref="Allgatherv(ReadOnlySpan{long}, Span{long}, ReadOnlySpan{long})"/> of floats held in tensors'
    /// memory: this rank's <paramref name="sendCount"/> floats at <paramref name="send"/>, every rank's in rank order
    /// into the <paramref name="receiveCount"/> floats at <paramref name="receive"/>.
    /// </summary>
    /// <exception cref="ArgumentException">As the int64 overload.</exception>
    /// <exception cref="InvalidOperationException">As the int64 overload.</exception>
    public static void AllgathervFloats(IntPtr send, long sendCount, IntPtr receive, long receiveCount, ReadOnlySpan<long> counts) =>
        AllgathervRaw((void*)send, sendCount, (void*)receive, receiveCount, counts, typeFloat, "float");

    /// <summary>Waits until every rank has reached the barrier.</summary>
    public static void Barrier()
    {
        RequireInitialized();
        lock (Gate)
        {
            Check(barrier(commWorld), "MPI_Barrier");
        }
    }

    /// <summary>Ends every process of the job with <paramref name="code"/> (<c>MPI_Abort</c>); returns only if the call fails.</summary>
    public static void Abort(int code)
    {
        RequireInitialized();
        _ = abort(commWorld, code);
    }

    private static void AllreduceRaw(void* data, long count, IntPtr type, int elementSize, Op op)
    {
        RequireInitialized();
        var handle = op switch { Op.Sum => opSum, Op.Max => opMax, _ => opMin };
        lock (Gate)
        {
            for (long done = 0; done < count;)
            {
                var chunk = (int)Math.Min(1 << 30, count - done);
                // MPI_IN_PLACE is (void*)1 in Open MPI's mpi.h.
                Check(allreduce((void*)1, (byte*)data + (done * elementSize), chunk, type, handle, commWorld), "MPI_Allreduce");
                done += chunk;
            }
        }
    }

    private static void AllgathervRaw(void* send, long sendCount, void* receive, long receiveCount, ReadOnlySpan<long> counts, IntPtr type, string typeName)
    {
        RequireInitialized();
        if (counts.Length != Size || counts[Rank] != sendCount)
        {
            throw new ArgumentException($"MPI_Allgatherv: rank {Rank} sends {sendCount} {typeName} values, but the counts ({counts.Length} for {Size} ranks) say {(counts.Length == Size ? counts[Rank] : -1)}.", nameof(counts));
        }

        long total = 0;
        var sizes = new int[Size];
        var offsets = new int[Size];
        for (var r = 0; r < Size; r++)
        {
            // MPI's counts and displacements are int: refuse before the call rather than let them wrap.
            if (counts[r] < 0 || total + counts[r] > int.MaxValue)
            {
                throw new InvalidOperationException(
                    $"MPI_Allgatherv: {typeName} values from rank {r} ({counts[r]}) bring the total to {total + counts[r]}, beyond MPI's int counts ({int.MaxValue}); " +
                    "exchange fewer rows a step (a smaller batch) or set DataParallel's sparseAsDense.");
            }

            sizes[r] = (int)counts[r];
            offsets[r] = (int)total;
            total += counts[r];
        }

        if (receiveCount != total)
        {
            throw new ArgumentException($"MPI_Allgatherv: the receive buffer holds {receiveCount} {typeName} values; the ranks send {total}.", nameof(receiveCount));
        }

        fixed (int* sizePointer = sizes)
        fixed (int* offsetPointer = offsets)
        {
            lock (Gate)
            {
                Check(allgatherv(send, (int)sendCount, type, receive, sizePointer, offsetPointer, type, commWorld), "MPI_Allgatherv");
            }
        }
    }

    private static void FinalizeMpi()
    {
        lock (Gate)
        {
            if (!IsInitialized)
            {
                return;
            }

            int flag;
            if (finalizedFn(&flag) == 0 && flag == 0)
            {
                _ = finalize();
            }

            IsInitialized = false;
        }
    }

    private static void RequireInitialized()
    {
        if (!IsInitialized)
        {
            throw new InvalidOperationException("MPI is not initialized: create a DataParallel distribution first (Distribution.SetDistribution(new DataParallel())).");
        }
    }

    private static void Check(int code, string function)
    {
        if (code != 0)
        {
            throw new MpiException($"{function} failed with MPI error code {code}.");
        }
    }

    [DllImport("libdl.so.2", EntryPoint = "dlopen")]
    private static extern IntPtr DlOpen(string file, int mode);

    private static void Load()
    {
        if (library != IntPtr.Zero)
        {
            return;
        }

        // Open MPI's components are plugins that need libmpi's symbols, so it is opened RTLD_GLOBAL (as mpi4py does).
        IntPtr handle;
        try
        {
            handle = DlOpen(LibraryName, RtldNow | RtldGlobal);
        }
        catch (DllNotFoundException)
        {
            handle = IntPtr.Zero;
        }

        if (handle == IntPtr.Zero && !NativeLibrary.TryLoad(LibraryName, out handle))
        {
            throw new InvalidOperationException(
                $"DataParallel: the MPI library {LibraryName} (Open MPI 4) could not be loaded. Install Open MPI (Debian/Ubuntu: apt-get install openmpi-bin) " +
                "or add the folder that holds it to LD_LIBRARY_PATH.");
        }

        IntPtr Export(string name) => NativeLibrary.TryGetExport(handle, name, out var address)
            ? address
            : throw new InvalidOperationException($"DataParallel: {LibraryName} has no symbol '{name}'; Open MPI 4.x is needed.");

        commWorld = Export("ompi_mpi_comm_world");
        typeFloat = Export("ompi_mpi_float");
        typeDouble = Export("ompi_mpi_double");
        typeByte = Export("ompi_mpi_byte");
        typeInt64 = Export("ompi_mpi_int64_t");
        opSum = Export("ompi_mpi_op_sum");
        opMax = Export("ompi_mpi_op_max");
        opMin = Export("ompi_mpi_op_min");
        initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        finalizedFn = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        initThread = (delegate* unmanaged<int*, IntPtr*, int, int*, int>)Export("MPI_Init_thread");
        finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        commRank = (delegate* unmanaged<IntPtr, int*, int>)Export("MPI_Comm_rank");
        commSize = (delegate* unmanaged<IntPtr, int*, int>)Export("MPI_Comm_size");
        allreduce = (delegate* unmanaged<void*, void*, int, IntPtr, IntPtr, IntPtr, int>)Export("MPI_Allreduce");
        bcast = (delegate* unmanaged<void*, int, IntPtr, int, IntPtr, int>)Export("MPI_Bcast");
        barrier = (delegate* unmanaged<IntPtr, int>)Export("MPI_Barrier");
        allgather = (delegate* unmanaged<void*, int, IntPtr, void*, int, IntPtr, IntPtr, int>)Export("MPI_Allgather");
        allgatherv = (delegate* unmanaged<void*, int, IntPtr, void*, int*, int*, IntPtr, IntPtr, int>)Export("MPI_Allgatherv");
        abort = (delegate* unmanaged<IntPtr, int, int>)Export("MPI_Abort");
        library = handle;
    }
}

/// <summary>An MPI call returned an error code.</summary>
public sealed class MpiException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed.</param>
    public MpiException(string message)
        : base(message)
    {
    }
}
