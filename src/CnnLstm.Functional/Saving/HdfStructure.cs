using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace KerasStyle.Saving;

/// <summary>
/// Checks the link structure of an HDF5 file before PureHDF navigates it, by reading the file's own metadata (the
/// HDF5 file format specification 3.0: superblock, object headers, symbol tables, link messages). PureHDF resolves
/// soft links as it lists a group, so a soft link to itself recursed until the process died of a stack overflow; it
/// follows external links and external dataset storage into other files on disk; and a hard link to a parent group
/// made every walk of the file endless. Keras' <c>saving_lib.safe_get_h5_group</c> / <c>safe_get_h5_dataset</c>
/// refuse soft links, external links, external storage and virtual datasets; this refuses them anywhere in the file,
/// and also an object reached twice (a cycle, or one dataset that would be two weights), before anything is read.
/// Attributes are checked to hold the bytes they declare, as libhdf5 checks them, since PureHDF allocates the declared
/// size first.
/// </summary>
internal static class HdfStructure
{
    /// <summary>Deeper than any Keras file (a model nested in a model adds two levels); bounds the walks over the file.</summary>
    public const int MaxDepth = 256;

    private static readonly byte[] Signature = { 0x89, (byte)'H', (byte)'D', (byte)'F', 0x0D, 0x0A, 0x1A, 0x0A };

    private const ushort LinkInfoMessage = 0x0002;
    private const ushort LinkMessage = 0x0006;
    private const ushort ExternalFilesMessage = 0x0007;
    private const ushort LayoutMessage = 0x0008;
    private const ushort ContinuationMessage = 0x0010;
    private const ushort SymbolTableMessage = 0x0011;
    private const ushort AttributeMessage = 0x000C;
    private const ushort AttributeInfoMessage = 0x0015;

    /// <summary>
    /// Walks every group of the file from the root and throws a <see cref="KerasFileException"/> naming the path of
    /// the first soft link, external link, externally stored or virtual dataset, object reached a second time, or
    /// group nested deeper than <see cref="MaxDepth"/>; or when the metadata is truncated or malformed.
    /// </summary>
    /// <param name="stream">The file's content; read from its start, left at any position.</param>
    /// <param name="path">The file, for messages.</param>
    public static void Check(Stream stream, string path)
    {
        try
        {
            new Walker(stream, path).Run();
        }
        catch (Exception e) when (e is IOException or ArgumentException or OverflowException)
        {
            throw new KerasFileException(path, $"not a readable HDF5 file ({e.Message}).", e);
        }
    }

    private sealed class Walker
    {
        private readonly Stream stream;
        private readonly string path;
        private readonly HashSet<ulong> blocks = new();
        private readonly Dictionary<ulong, string> reachedAs = new();
        private readonly HashSet<ulong> heaps = new();
        private long baseAddress;
        private int offsetSize;
        private int lengthSize;

        public Walker(Stream stream, string path)
        {
            this.stream = stream;
            this.path = path;
        }

        public void Run()
        {
            var root = ReadSuperblock();
            var pending = new Stack<(ulong Address, string Path, int Depth)>();
            pending.Push((root, string.Empty, 0));
            while (pending.Count > 0)
            {
                var (address, objectPath, depth) = pending.Pop();
                if (reachedAs.TryGetValue(address, out var first))
                {
                    throw Refuse(objectPath.StartsWith(first.Length == 0 ? string.Empty : first + "/", StringComparison.Ordinal)
                        ? $"'{Show(objectPath)}' is a hard link back to its own parent group '{Show(first)}', a cycle"
                        : $"'{Show(objectPath)}' is a hard link to the object already reached as '{Show(first)}'; a Keras file stores each group and weight once");
                }

                reachedAs[address] = objectPath;
                if (depth > MaxDepth)
                {
                    throw Refuse($"'{Show(objectPath)}' is nested {depth} groups deep, more than any Keras file ({MaxDepth})");
                }

                foreach (var (name, target) in Links(address, objectPath))
                {
                    pending.Push((target, objectPath.Length == 0 ? name : $"{objectPath}/{name}", depth + 1));
                }
            }
        }

        /// <summary>The hard links of the object at <paramref name="address"/> when it is a group; checks a dataset's storage.</summary>
        private List<(string Name, ulong Target)> Links(ulong address, string objectPath)
        {
            var links = new List<(string, ulong)>();
            foreach (var (type, data) in Messages(address, objectPath))
            {
                switch (type)
                {
                    case ExternalFilesMessage:
                        throw Refuse($"dataset '{Show(objectPath)}' keeps its values in external files (HDF5 external storage); a model file may not make the library read other files");
                    case LayoutMessage when data.Length >= 2 && data[0] >= 3 && data[1] == 3:
                        throw Refuse($"dataset '{Show(objectPath)}' is a virtual dataset, whose values come from other datasets or files; a model file may not make the library read other files");
                    case SymbolTableMessage:
                        var reader = new SpanReader(data, this);
                        var btree = reader.Offset();
                        var heap = reader.Offset();
                        SymbolTable(btree, heap, objectPath, links);
                        break;
                    case LinkMessage:
                        links.Add(Link(data, objectPath));
                        break;
                    case AttributeMessage:
                        CheckAttribute(data, objectPath);
                        break;
                    case AttributeInfoMessage:
                        var attributes = new SpanReader(data, this);
                        attributes.Skip(1);
                        var attributeFlags = attributes.Byte();
                        attributes.Skip((attributeFlags & 1) != 0 ? 2 : 0);
                        if (!IsUndefined(attributes.Offset()))
                        {
                            throw Refuse($"'{Show(objectPath)}' keeps its attributes in dense storage (a fractal heap, written by h5py with libver='latest'), which this library does not read; save the file with h5py's default libver");
                        }

                        break;
                    case LinkInfoMessage:
                        var info = new SpanReader(data, this);
                        info.Skip(1);
                        var flags = info.Byte();
                        info.Skip((flags & 1) != 0 ? 8 : 0);
                        if (!IsUndefined(info.Offset()))
                        {
                            throw Refuse($"group '{Show(objectPath)}' keeps its links in dense storage (a fractal heap, written by h5py with libver='latest' for groups of more than 8 links), which this library does not read; save the file with h5py's default libver");
                        }

                        break;
                }
            }

            return links;
        }

        /// <summary>
        /// Checks that an attribute's values fit in its message, where HDF5 stores them (as libhdf5's "data size
        /// exceeds buffer size"): PureHDF allocates what the dataspace and datatype declare before reading, so a
        /// <c>weight_names</c> declared as 10^8 strings took 1.5 GB and a larger one would exhaust memory.
        /// </summary>
        private void CheckAttribute(byte[] data, string objectPath)
        {
            var reader = new SpanReader(data, this);
            var version = reader.Byte();
            var flags = reader.Byte();
            var nameSize = (int)reader.Unsigned(2);
            var typeSize = (int)reader.Unsigned(2);
            var spaceSize = (int)reader.Unsigned(2);
            reader.Skip(version >= 3 ? 1 : 0);
            int Padded(int size) => version == 1 ? (size + 7) & ~7 : size;
            var nameBytes = reader.Bytes((ulong)Padded(nameSize));
            var name = Encoding.UTF8.GetString(nameBytes.AsSpan(0, Math.Min(nameSize, nameBytes.Length)).TrimEnd((byte)0));
            var where = $"attribute '{name}' of '{Show(objectPath)}'";
            if (version is < 1 or > 3)
            {
                throw Malformed($"{where} has unknown message version {version}");
            }

            if ((flags & 3) != 0)
            {
                throw Refuse($"{where} uses a shared datatype or dataspace, which Keras files do not use");
            }

            var type = new SpanReader(reader.Bytes((ulong)Padded(typeSize)), this);
            var variableLength = (type.Byte() & 0x0F) == 9;
            type.Skip(3);
            var elementSize = type.Unsigned(4);
            var space = new SpanReader(reader.Bytes((ulong)Padded(spaceSize)), this);
            var spaceVersion = space.Byte();
            var rank = space.Byte();
            space.Skip(1);
            // Version 1 has reserved bytes where version 2 has the dataspace type (0 scalar, 1 simple, 2 null).
            var spaceType = spaceVersion >= 2 ? space.Byte() : 1;
            space.Skip(spaceVersion >= 2 ? 0 : 5);
            // Counted as a double: a product of declared 64-bit dimensions overflows any integer type.
            var declared = spaceType == 2 ? 0.0 : (double)elementSize;
            for (var i = 0; i < rank && spaceType != 2; i++)
            {
                declared *= space.Length();
            }

            var stored = data.Length - reader.Position;
            if (declared > stored)
            {
                throw Refuse(string.Create(CultureInfo.InvariantCulture,
                    $"{where} declares {declared:N0} bytes of values, but its message holds {stored:N0}"));
            }

            // Variable-length values (h5py's strings) lie in global heap collections, whose objects PureHDF
            // allocates at their declared size.
            for (var i = 0; variableLength && i < (int)declared / (int)elementSize; i++)
            {
                reader.Skip(4);
                var collection = reader.Offset();
                reader.Skip(4);
                if (collection != 0 && !IsUndefined(collection) && heaps.Add(collection))
                {
                    CheckGlobalHeap(collection, where);
                }
            }
        }

        /// <summary>Checks that every object of a global heap collection lies inside it.</summary>
        private void CheckGlobalHeap(ulong address, string where)
        {
            var header = new SpanReader(Read(address, 8 + lengthSize, "a global heap collection"), this);
            header.Expect("GCOL", "a global heap collection");
            header.Skip(4);
            var objects = new SpanReader(Read(address + (ulong)(8 + lengthSize), Signed(header.Length()) - 8 - lengthSize, "a global heap collection"), this);
            while (objects.Remaining >= 8 + lengthSize)
            {
                var index = objects.Unsigned(2);
                objects.Skip(6);
                var size = objects.Length();
                if (index == 0)
                {
                    break;
                }

                if (size > (ulong)objects.Remaining)
                {
                    throw Refuse(string.Create(CultureInfo.InvariantCulture,
                        $"the values of {where} lie in a global heap object that declares {size:N0} bytes, more than its collection holds ({objects.Remaining:N0})"));
                }

                // Objects are padded to 8 bytes; the last one's padding may be cut off by the collection's end.
                objects.Skip((int)Math.Min((size + 7) & ~7UL, (ulong)objects.Remaining));
            }
        }

        private (string Name, ulong Target) Link(byte[] data, string objectPath)
        {
            var reader = new SpanReader(data, this);
            reader.Skip(1);
            var flags = reader.Byte();
            var linkType = (flags & 0x08) != 0 ? reader.Byte() : 0;
            reader.Skip((flags & 0x04) != 0 ? 8 : 0);
            reader.Skip((flags & 0x10) != 0 ? 1 : 0);
            var nameLength = reader.Unsigned(1 << (flags & 3));
            var name = Encoding.UTF8.GetString(reader.Bytes(nameLength));
            var linkPath = objectPath.Length == 0 ? name : $"{objectPath}/{name}";
            return linkType switch
            {
                0 => (name, reader.Offset()),
                1 => throw Refuse($"'{linkPath}' is a soft link (to '{Encoding.UTF8.GetString(reader.Bytes(reader.Unsigned(2)))}'); Keras refuses soft links in weights files, and one that leads back to itself is a cycle"),
                64 => throw Refuse($"'{linkPath}' is an external link into another file ({Printable(reader.Bytes(reader.Unsigned(2)).AsSpan(1))}); a model file may not make the library read other files"),
                _ => throw Refuse($"'{linkPath}' is a user-defined link (type {linkType}), which Keras files do not use"),
            };
        }

        /// <summary>An old-style group: a version 1 B-tree of symbol table nodes, names in a local heap.</summary>
        private void SymbolTable(ulong btree, ulong heap, string objectPath, List<(string, ulong)> links)
        {
            var heapHeader = new SpanReader(Read(heap, 8 + (2 * lengthSize) + offsetSize, "a local heap"), this);
            heapHeader.Expect("HEAP", "a local heap");
            heapHeader.Skip(4);
            var heapSize = Signed(heapHeader.Length());
            heapHeader.Length();
            var names = Read(heapHeader.Offset(), heapSize, "a local heap's names");
            var entrySize = (2 * offsetSize) + 24;
            var nodes = new Stack<(ulong Address, int Depth)>();
            nodes.Push((btree, 0));
            while (nodes.Count > 0)
            {
                var (address, depth) = nodes.Pop();
                if (!blocks.Add(address))
                {
                    throw Refuse($"the symbol table of group '{Show(objectPath)}' links a B-tree node twice, a cycle");
                }

                if (depth > MaxDepth)
                {
                    throw Malformed($"the symbol table of group '{Show(objectPath)}' is a B-tree deeper than {MaxDepth} levels");
                }

                var node = new SpanReader(Read(address, 8 + (2 * offsetSize), "a group B-tree node"), this);
                node.Expect("TREE", "a group B-tree node");
                var nodeType = node.Byte();
                var level = node.Byte();
                var used = (int)node.Unsigned(2);
                if (nodeType != 0)
                {
                    throw Malformed($"the symbol table of group '{Show(objectPath)}' has a B-tree node of type {nodeType}");
                }

                var body = new SpanReader(Read(address + (ulong)(8 + (2 * offsetSize)), ((used + 1) * lengthSize) + (used * offsetSize), "a group B-tree node"), this);
                for (var i = 0; i < used; i++)
                {
                    body.Skip(lengthSize);
                    var child = body.Offset();
                    if (level > 0)
                    {
                        nodes.Push((child, depth + 1));
                        continue;
                    }

                    if (!blocks.Add(child))
                    {
                        throw Refuse($"the symbol table of group '{Show(objectPath)}' lists one symbol node twice");
                    }

                    var symbols = new SpanReader(Read(child, 8, "a symbol table node"), this);
                    symbols.Expect("SNOD", "a symbol table node");
                    symbols.Skip(2);
                    var count = (int)symbols.Unsigned(2);
                    var entries = new SpanReader(Read(child + 8, count * entrySize, "a symbol table node"), this);
                    for (var e = 0; e < count; e++)
                    {
                        var name = HeapName(names, entries.Offset(), objectPath);
                        var target = entries.Offset();
                        var cacheType = entries.Unsigned(4);
                        entries.Skip(4);
                        var scratch = entries.Bytes(16);
                        if (cacheType == 2)
                        {
                            var value = HeapName(names, BinaryPrimitives.ReadUInt32LittleEndian(scratch), objectPath);
                            throw Refuse($"'{(objectPath.Length == 0 ? name : $"{objectPath}/{name}")}' is a soft link (to '{value}'); Keras refuses soft links in weights files, and one that leads back to itself is a cycle");
                        }

                        links.Add((name, target));
                    }
                }
            }
        }

        private string HeapName(byte[] names, ulong offset, string objectPath)
        {
            if (offset >= (ulong)names.Length)
            {
                throw Malformed($"a name in group '{Show(objectPath)}' lies outside its local heap");
            }

            var rest = names.AsSpan((int)offset);
            var end = rest.IndexOf((byte)0);
            return Encoding.UTF8.GetString(end < 0 ? rest : rest[..end]);
        }

        /// <summary>The messages of an object header (version 1 or 2), following its continuation blocks once each.</summary>
        private List<(ushort Type, byte[] Data)> Messages(ulong address, string objectPath)
        {
            var messages = new List<(ushort, byte[])>();
            var prefix = Read(address, 6, "an object header");
            var chunks = new Queue<(ulong Start, long Length)>();
            var version2 = prefix.AsSpan(0, 4).SequenceEqual("OHDR"u8);
            var attributeOrder = false;
            if (version2)
            {
                var flags = prefix[5];
                attributeOrder = (flags & 0x04) != 0;
                var at = 6 + ((flags & 0x20) != 0 ? 16 : 0) + ((flags & 0x10) != 0 ? 4 : 0);
                var sizeBytes = 1 << (flags & 3);
                var sizeField = new SpanReader(Read(address + (ulong)at, sizeBytes, "an object header"), this);
                chunks.Enqueue((address + (ulong)(at + sizeBytes), Signed(sizeField.Unsigned(sizeBytes))));
            }
            else if (prefix[0] == 1)
            {
                // Version 1: a 12-byte prefix padded to 16, the messages' size at byte 8.
                chunks.Enqueue((address + 16, BinaryPrimitives.ReadUInt32LittleEndian(Read(address, 12, "an object header").AsSpan(8))));
            }
            else
            {
                throw Malformed($"the object header of '{Show(objectPath)}' has unknown version {prefix[0]}");
            }

            var headerSize = version2 ? 4 + (attributeOrder ? 2 : 0) : 8;
            for (var first = true; chunks.Count > 0; first = false)
            {
                var (start, length) = chunks.Dequeue();
                if (!first && !blocks.Add(start))
                {
                    throw Refuse($"the object header of '{Show(objectPath)}' continues into a block already read, a cycle");
                }

                var chunk = Read(start, length, "an object header");
                var reader = new SpanReader(chunk, this);
                // A version 2 continuation block starts with 'OCHK' and ends with a checksum; the first chunk's
                // checksum follows the size it declares.
                var continued = version2 && !first;
                if (continued)
                {
                    reader.Expect("OCHK", "an object header continuation");
                }

                var end = chunk.Length - (continued ? 4 : 0);
                while (end - reader.Position >= headerSize)
                {
                    var type = version2 ? reader.Byte() : (ushort)reader.Unsigned(2);
                    var size = (int)reader.Unsigned(2);
                    reader.Skip(headerSize - (version2 ? 3 : 4));
                    var data = reader.Bytes((ulong)size);
                    if (type == ContinuationMessage)
                    {
                        var continuation = new SpanReader(data, this);
                        var next = continuation.Offset();
                        chunks.Enqueue((next, Signed(continuation.Length())));
                    }
                    else
                    {
                        messages.Add((type, data));
                    }
                }
            }

            return messages;
        }

        private ulong ReadSuperblock()
        {
            for (long at = 0; at + Signature.Length <= stream.Length; at = at == 0 ? 512 : at * 2)
            {
                var head = ReadAbsolute(at, 16, "the superblock");
                if (!head.AsSpan(0, 8).SequenceEqual(Signature))
                {
                    continue;
                }

                var version = head[8];
                if (version <= 1)
                {
                    offsetSize = head[13];
                    lengthSize = head[14];
                    CheckSizes();
                    var fields = new SpanReader(ReadAbsolute(at + (version == 0 ? 24 : 28), (4 * offsetSize) + offsetSize + offsetSize + 24, "the superblock"), this);
                    baseAddress = Signed(fields.Offset());
                    fields.Skip(3 * offsetSize);
                    fields.Offset();
                    return fields.Offset();
                }

                offsetSize = head[9];
                lengthSize = head[10];
                CheckSizes();
                var rest = new SpanReader(ReadAbsolute(at + 12, 4 * offsetSize, "the superblock"), this);
                baseAddress = Signed(rest.Offset());
                rest.Skip(2 * offsetSize);
                return rest.Offset();
            }

            throw Malformed("it has no HDF5 signature");
        }

        private void CheckSizes()
        {
            if (offsetSize is not (2 or 4 or 8) || lengthSize is not (2 or 4 or 8))
            {
                throw Malformed($"its superblock declares {offsetSize}-byte addresses and {lengthSize}-byte lengths");
            }
        }

        private byte[] Read(ulong address, long count, string what)
        {
            if (IsUndefined(address) || address > (ulong)long.MaxValue)
            {
                throw Malformed($"{what} has no valid address");
            }

            return ReadAbsolute(baseAddress < 0 || (long)address > long.MaxValue - baseAddress ? -1 : baseAddress + (long)address, count, what);
        }

        private byte[] ReadAbsolute(long at, long count, string what)
        {
            // Bounded by the file: a length field cannot make this allocate more than the file holds.
            if (count < 0 || at < 0 || at > stream.Length || count > stream.Length - at)
            {
                throw Malformed(string.Create(CultureInfo.InvariantCulture, $"{what} at byte {at} ({count} bytes) lies outside the file ({stream.Length} bytes)"));
            }

            var buffer = new byte[count];
            stream.Position = at;
            stream.ReadExactly(buffer);
            return buffer;
        }

        /// <summary>A size or address as a stream position; an impossible one becomes negative, which reads refuse.</summary>
        private static long Signed(ulong value) => value > long.MaxValue ? -1 : (long)value;

        private bool IsUndefined(ulong address) => offsetSize == 8 ? address == ulong.MaxValue : address == (1UL << (8 * offsetSize)) - 1;

        private KerasFileException Refuse(string message) => new(path, $"{message}. The file is refused before anything is read.");

        private KerasFileException Malformed(string message) => new(path, $"not a readable HDF5 file ({message}).");

        private static string Show(string objectPath) => objectPath.Length == 0 ? "/" : objectPath;

        private static string Printable(ReadOnlySpan<byte> value)
        {
            var parts = Encoding.UTF8.GetString(value).Split('\0', StringSplitOptions.RemoveEmptyEntries);
            return parts.Length == 2 ? $"file '{parts[0]}', object '{parts[1]}'" : $"'{string.Join("', '", parts)}'";
        }

        /// <summary>Little-endian fields of a block already read, failing as a malformed file when they run past it.</summary>
        private sealed class SpanReader
        {
            private readonly byte[] data;
            private readonly Walker owner;

            public SpanReader(byte[] data, Walker owner)
            {
                this.data = data;
                this.owner = owner;
            }

            public int Position { get; private set; }

            public int Remaining => data.Length - Position;

            public byte Byte() => Bytes(1)[0];

            public ulong Unsigned(int size)
            {
                var bytes = Bytes((ulong)size);
                ulong value = 0;
                for (var i = size - 1; i >= 0; i--)
                {
                    value = (value << 8) | bytes[i];
                }

                return value;
            }

            public ulong Offset() => Unsigned(owner.offsetSize);

            public ulong Length() => Unsigned(owner.lengthSize);

            public void Skip(int count) => Bytes((ulong)count);

            public byte[] Bytes(ulong count)
            {
                if (count > (ulong)(data.Length - Position))
                {
                    throw owner.Malformed("a header message runs past its block");
                }

                var result = data.AsSpan(Position, (int)count).ToArray();
                Position += (int)count;
                return result;
            }

            public void Expect(string signature, string what)
            {
                if (!Bytes(4).AsSpan().SequenceEqual(Encoding.ASCII.GetBytes(signature)))
                {
                    throw owner.Malformed($"{what} lacks its '{signature}' signature");
                }
            }
        }
    }
}
