using System.Reflection;
using System.Reflection.Emit;
using System.Reflection.Metadata;
using System.Reflection.Metadata.Ecma335;
using System.Reflection.PortableExecutable;

namespace KerasStyle.Tests.Engine;

/// <summary>
/// Finds, by reading IL, the places where a method creates a temporary TorchSharp <c>Scalar</c> and hands it to a
/// native call: an implicit conversion (<c>t.mul_(0.9)</c>, <c>t * 2</c>, <c>t.gt(0)</c>) or <c>ToScalar()</c> at the
/// call site, or a call to a TorchSharp method that makes such a temporary itself (<c>add(Tensor)</c> passes a new
/// Scalar 1 as alpha). TorchSharp 0.107 neither tracks Scalars in dispose scopes nor keeps them alive across its
/// P/Invoke calls (no GC.KeepAlive), so a garbage collection started by another thread during the native call can
/// finalize the temporary, and libtorch then reads a freed <c>c10::Scalar</c> ("INTERNAL ASSERT FAILED at
/// c10/core/Scalar.h", "Unknown scalar type").
/// </summary>
internal static class ScalarTemporaries
{
    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private static readonly Lazy<HashSet<string>> MakersInTorchSharp = new(() => ScanTorchSharp());

    /// <summary>"Type.Method" of each method of <paramref name="assembly"/> with such a call, and what it calls.</summary>
    public static IReadOnlyList<string> In(Assembly assembly, Func<string, bool>? typeFilter = null)
    {
        var makers = MakersInTorchSharp.Value;
        var found = new List<string>();
        foreach (var (type, method, callees) in Calls(assembly.Location))
        {
            if (typeFilter is not null && !typeFilter(type))
            {
                continue;
            }

            var bad = callees.Where(c => IsScalarMaker(c) || makers.Contains(c)).Distinct().ToArray();
            if (bad.Length > 0)
            {
                found.Add($"{type}.{method}: {string.Join(", ", bad)}");
            }
        }

        return found;
    }

    private static bool IsScalarMaker(string callee) =>
        callee.StartsWith("TorchSharp.Scalar::op_Implicit", StringComparison.Ordinal)
        || callee.StartsWith("TorchSharp.ScalarExtensionMethods::ToScalar", StringComparison.Ordinal);

    /// <summary>TorchSharp methods whose body makes a Scalar by implicit conversion (a temporary nobody keeps alive).</summary>
    private static HashSet<string> ScanTorchSharp()
    {
        var methods = Calls(typeof(TorchSharp.Scalar).Assembly.Location)
            .Where(m => m.Type != "TorchSharp.ScalarExtensionMethods" && m.Type != "TorchSharp.Scalar")
            .ToList();
        var result = new HashSet<string>();
        // Closure: a method that calls one that makes a temporary (operator + calls add(Tensor)) makes one too.
        for (var grew = true; grew;)
        {
            grew = false;
            foreach (var (type, method, callees) in methods)
            {
                if (callees.Any(c => c.StartsWith("TorchSharp.Scalar::op_Implicit", StringComparison.Ordinal) || result.Contains(c)))
                {
                    grew |= result.Add($"{type}::{method}");
                }
            }
        }

        return result;
    }

    /// <summary>Every method of the file with the "Type::Name(parameter types)" of each method it calls.</summary>
    private static IEnumerable<(string Type, string Method, List<string> Callees)> Calls(string path)
    {
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var md = pe.GetMetadataReader();
        var provider = new SignatureNames();
        foreach (var typeHandle in md.TypeDefinitions)
        {
            var type = md.GetTypeDefinition(typeHandle);
            var typeName = FullName(md, type);
            foreach (var methodHandle in type.GetMethods())
            {
                var method = md.GetMethodDefinition(methodHandle);
                if (method.RelativeVirtualAddress == 0)
                {
                    continue;
                }

                var body = pe.GetMethodBody(method.RelativeVirtualAddress);
                var il = body.GetILReader();
                var callees = new List<string>();
                while (il.RemainingBytes > 0)
                {
                    var code = (short)il.ReadByte();
                    if (code == 0xFE)
                    {
                        code = (short)(0xFE00 | il.ReadByte());
                    }

                    var op = OpCodesByValue[code];
                    switch (op.OperandType)
                    {
                        case OperandType.InlineMethod:
                            var token = il.ReadInt32();
                            if (op == OpCodes.Call || op == OpCodes.Callvirt || op == OpCodes.Newobj)
                            {
                                callees.Add(MethodName(md, MetadataTokens.EntityHandle(token), provider));
                            }

                            break;
                        case OperandType.InlineSwitch:
                            var count = il.ReadInt32();
                            il.Offset += count * 4;
                            break;
                        case OperandType.InlineNone:
                            break;
                        case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                            il.Offset += 1;
                            break;
                        case OperandType.InlineVar:
                            il.Offset += 2;
                            break;
                        case OperandType.InlineI8 or OperandType.InlineR:
                            il.Offset += 8;
                            break;
                        default:
                            il.Offset += 4;
                            break;
                    }
                }

                var name = md.GetString(method.Name);
                var signature = method.DecodeSignature(provider, null);
                yield return (typeName, $"{name}({string.Join(",", signature.ParameterTypes)})", callees);
            }
        }
    }

    private static string MethodName(MetadataReader md, EntityHandle handle, SignatureNames provider)
    {
        switch (handle.Kind)
        {
            case HandleKind.MethodDefinition:
                var def = md.GetMethodDefinition((MethodDefinitionHandle)handle);
                var defSignature = def.DecodeSignature(provider, null);
                return $"{FullName(md, md.GetTypeDefinition(def.GetDeclaringType()))}::{md.GetString(def.Name)}({string.Join(",", defSignature.ParameterTypes)})";
            case HandleKind.MemberReference:
                var member = md.GetMemberReference((MemberReferenceHandle)handle);
                var owner = member.Parent.Kind switch
                {
                    HandleKind.TypeReference => FullName(md, (TypeReferenceHandle)member.Parent),
                    HandleKind.TypeDefinition => FullName(md, md.GetTypeDefinition((TypeDefinitionHandle)member.Parent)),
                    HandleKind.TypeSpecification => "spec",
                    _ => "?",
                };
                if (member.GetKind() != MemberReferenceKind.Method)
                {
                    return $"{owner}::{md.GetString(member.Name)}";
                }

                var signature = member.DecodeMethodSignature(provider, null);
                return $"{owner}::{md.GetString(member.Name)}({string.Join(",", signature.ParameterTypes)})";
            case HandleKind.MethodSpecification:
                var spec = md.GetMethodSpecification((MethodSpecificationHandle)handle);
                return MethodName(md, spec.Method, provider);
            default:
                return "?";
        }
    }

    private static string FullName(MetadataReader md, TypeDefinition type)
    {
        var name = md.GetString(type.Name);
        if (type.GetDeclaringType() is { IsNil: false } outer)
        {
            return $"{FullName(md, md.GetTypeDefinition(outer))}+{name}";
        }

        var ns = md.GetString(type.Namespace);
        return ns.Length == 0 ? name : $"{ns}.{name}";
    }

    private static string FullName(MetadataReader md, TypeReferenceHandle handle)
    {
        var type = md.GetTypeReference(handle);
        var name = md.GetString(type.Name);
        if (type.ResolutionScope.Kind == HandleKind.TypeReference)
        {
            return $"{FullName(md, (TypeReferenceHandle)type.ResolutionScope)}+{name}";
        }

        var ns = md.GetString(type.Namespace);
        return ns.Length == 0 ? name : $"{ns}.{name}";
    }

    /// <summary>Type names as "Namespace.Type" (nested "Outer+Inner"), enough to tell overloads apart.</summary>
    private sealed class SignatureNames : ISignatureTypeProvider<string, object?>
    {
        public string GetArrayType(string elementType, ArrayShape shape) => elementType + "[,]";

        public string GetByReferenceType(string elementType) => elementType + "&";

        public string GetFunctionPointerType(MethodSignature<string> signature) => "fnptr";

        public string GetGenericInstantiation(string genericType, System.Collections.Immutable.ImmutableArray<string> typeArguments) =>
            $"{genericType}<{string.Join(",", typeArguments)}>";

        public string GetGenericMethodParameter(object? genericContext, int index) => $"!!{index}";

        public string GetGenericTypeParameter(object? genericContext, int index) => $"!{index}";

        public string GetModifiedType(string modifier, string unmodifiedType, bool isRequired) => unmodifiedType;

        public string GetPinnedType(string elementType) => elementType;

        public string GetPointerType(string elementType) => elementType + "*";

        public string GetPrimitiveType(PrimitiveTypeCode typeCode) => typeCode.ToString();

        public string GetSZArrayType(string elementType) => elementType + "[]";

        public string GetTypeFromDefinition(MetadataReader reader, TypeDefinitionHandle handle, byte rawTypeKind) =>
            FullName(reader, reader.GetTypeDefinition(handle));

        public string GetTypeFromReference(MetadataReader reader, TypeReferenceHandle handle, byte rawTypeKind) => FullName(reader, handle);

        public string GetTypeFromSpecification(MetadataReader reader, object? genericContext, TypeSpecificationHandle handle, byte rawTypeKind) => "spec";
    }
}
