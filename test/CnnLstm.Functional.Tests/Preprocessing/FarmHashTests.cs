using KerasStyle.Preprocessing;

namespace KerasStyle.Tests.Preprocessing;

/// <summary>
/// FarmHash <c>Fingerprint64</c> (TensorFlow's <c>Fingerprint64</c>, behind <c>to_hash_bucket_fast</c>) against
/// farmhash's own self-test (google/farmhash, src/farmhash.cc, namespace <c>farmhashnaTest</c>, which checks
/// <c>farmhashna::Hash64</c>, the function <c>Fingerprint64</c> returns): the same pseudorandom 1 MiB of data
/// (<c>Setup()</c>), the same (offset, length) cases (<c>RunTest()</c>: <c>Test(i * i, i)</c> for i below 299, then
/// lengths growing by a seventh up to 2^20 at offset 0), and the expected values, the third pair (Hash64's high and
/// low 32 bits) of each case's six entries of its <c>expected[]</c> array, joined here into one 64-bit value.
/// </summary>
public class FarmHashTests
{
    private static readonly ulong[] Expected =
    {
        0x9ae16a3b2f90404fUL, 0x541150e87f415e96UL, 0x0f3786a4b25827c1UL, 0xef923a7a1af78eabUL,
        0x11df592596f41d88UL, 0x831f448bdc5600b3UL, 0x3eca803e70304894UL, 0x1b5a063fb4c7f9f1UL,
        0xa0f10149a0e538d6UL, 0xfb8d9c70660b910bUL, 0x236827beae282a46UL, 0xc385e435136ecf7cUL,
        0xe3f6828b6017086dUL, 0x851fff285561dca0UL, 0x61152a63595a96d9UL, 0x44473e03be306c88UL,
        0x03ead5f21d344056UL, 0x6abbfde37ee03b5bUL, 0x0943e7ed63b3c080UL, 0xd72ce05171ef8a1aUL,
        0x4182832b52d63735UL, 0xd6cdae892584a2cbUL, 0x5c8e90bc267c5ee4UL, 0xbbd7f30ac310a6f3UL,
        0x36a097aa49519d97UL, 0x0dc78cb032c49217UL, 0x441593e0da922dfeUL, 0x2ba3883d71cc2133UL,
        0xf2b6d2adf8423600UL, 0x38fffe7f3680d63cUL, 0xb7477bf0b9ce37c6UL, 0x55bdb0e71e3edebdUL,
        0x0782fa1b08b475e7UL, 0x09deb3da5e16b5b8UL, 0x0ee347d647f95396UL, 0x02ccf9db44ffcadcUL,
        0xd76f044822fad20bUL, 0x4565c9a1f6cf7563UL, 0xde0ec95b0dd50728UL, 0x1e916689df731452UL,
        0x01596fbb269fb44eUL, 0x3d0cc12df012fdc6UL, 0x18871267759f9e9eUL, 0xcf1fd8413d56223aUL,
        0x2324170a136a5d06UL, 0x0f5a57eadc6c581dUL, 0x896893fc0b705345UL, 0xc59c4e1a7f4fe221UL,
        0x01601bbbc1db4a56UL, 0x2784c6a7cd48179eUL, 0x7e1714daf34531b9UL, 0x52364482fbd72b69UL,
        0xda99dc3d65ec5ea5UL, 0xa26c6862d8f398cfUL, 0x9340980e344ed13aUL, 0xed560843e0444b29UL,
        0x434da74b2ba4e026UL, 0xc0a50b576285052cUL, 0x84bf2c6955012ddaUL, 0x52a098bd016ec185UL,
        0x5f4a05c2bb909857UL, 0x2c1aa859228c620aUL, 0xe8a86180173c94bdUL, 0xa8edbff858475437UL,
        0xdef74bf4c9f1bc1bUL, 0x3cceab392bc39b3fUL, 0x9b97f76002f66a94UL, 0x546d5de7a7d7751bUL,
        0x37da9fddb4f01efeUL, 0xdd3551cc9c9ab11eUL, 0xdabb0d9d0fb2a854UL, 0xd47e7c1f46fcdf8aUL,
        0xa3c3d1c8f623c250UL, 0x875e2c13b2660e08UL, 0x2f70bfc44293f142UL, 0x37df2a50500cd289UL,
        0x4587b6d460c6a7e8UL, 0xa23934f5737eac9dUL, 0x06d4e97f38e8852fUL, 0x68b80257af01bc8fUL,
        0x93ffa56c72e1911aUL, 0x63b3f14a80122fe7UL, 0x9d215fcb4fc187c3UL, 0x4f94edba7c40f003UL,
        0xa3ba25f225f1fd77UL, 0x7bbd7dbb185c99dcUL, 0x8930e3bea0728443UL, 0x9bcfd4da75c02684UL,
        0xd25f7d5d58d4a1fbUL, 0xfe9e6f6e71de6b5aUL, 0xded448f29841dad8UL, 0x85628801a71635feUL,
        0x7702ef00320a3339UL, 0xd3463da3e9055e34UL, 0xd9eb18e531eadb52UL, 0x1a1ccdba1ce27666UL,
        0x1262318f0fffe11eUL, 0xfcf0dc0da9df5e16UL, 0xafbacd177d4af13bUL, 0x677366425bbd9874UL,
        0x05ad36f677825ce0UL, 0x557388ca06f3e5e4UL, 0x3488c3fe80b25222UL, 0x14077c2e7841d062UL,
        0x384fa4dc64ff2808UL, 0x0f81ff041e23cacbUL, 0xdde4877c5a1136c1UL, 0x41caf1407c857f51UL,
        0x93860b2842c21cdaUL, 0xa967a32bf028cacbUL, 0xe6da7d91081d01ceUL, 0x654b958a53a7cffeUL,
        0x6b9d5fac98b5ffd2UL, 0xfe9f80a8b710e6b2UL, 0x1b638d942dfd90d5UL, 0x0b0a6d75f06216c7UL,
        0xd16349711264a197UL, 0xfd5405d898ed2c27UL, 0x0251eff2e0bd17e6UL, 0xb8c5b1d44acf10e6UL,
        0x8cdf28220346651cUL, 0x97173f7590fbe61bUL, 0xa3693d5d4c5949c0UL, 0x4c5b2ceb42d743c5UL,
        0x7ecff84a2a815e39UL, 0x7da8621937411360UL, 0xf672649174c36ae1UL, 0x99096f55f2e75eb0UL,
        0xf4a9a248b462909dUL, 0xd4f7c858d78153b6UL, 0x5be83a9fb802c999UL, 0x3321995895ed07e1UL,
        0xa77a9d501b6eaae6UL, 0x74454dd17b5dee37UL, 0x41f355151543772fUL, 0xda4f403068577213UL,
        0x3b237c5bc9b4077eUL, 0x060130be1aebbc74UL, 0xd99408e78e772416UL, 0x7c80110a09cc95b8UL,
        0xa3f9bcb8695ea709UL, 0xcd1b9114c616cec1UL, 0xa45476a60c5d19bdUL, 0x9ddbccff8cb0dc04UL,
        0x533c6ba7521f04deUL, 0x558a6b37418dc38bUL, 0xc922fb4fd321fefcUL, 0xf348d9e714174892UL,
        0x266fa1e24de39868UL, 0x4a114282f4ee38faUL, 0xc9504fb06a97dc38UL, 0x62dca9b1ad8a25c7UL,
        0x15e051deb7113a86UL, 0xfeb2d313e8654393UL, 0x6ecde27579a058daUL, 0xf3095d4ad48818ccUL,
        0x0fdabb4c6f2311feUL, 0x370422e41d3e165dUL, 0xe47c9ee1c3ef66ecUL, 0x9deb67341dcf3aacUL,
        0xa785317e5d12e3cfUL, 0xc02b580ea55a3330UL, 0x7d96716705bfdab6UL, 0x49ab9d3ffc91fbe2UL,
        0x1081e8e8f46dd949UL, 0x197ae4cafd223bf7UL, 0x6ecab227cf34a715UL, 0x155722f995ab3a2fUL,
        0x5b8578c8213008f8UL, 0x5800a84cada208d8UL, 0xb5e288e4f130595aUL, 0x6b68f3f03b086b09UL,
        0xf192b850ae703a07UL, 0xfe3a022b04e46731UL, 0x1bae4d46f9cb1db7UL, 0x2bb8767b5e66e564UL,
        0x6fed858ce932d9caUL, 0x0085a8a5976826bdUL, 0x785de4d7f17e4664UL, 0x29c5e93963df0602UL,
        0xba96a19c1827a663UL, 0x84903b30f2af686aUL, 0x877259502fe5981dUL, 0xef8f547ee4f85592UL,
        0xcc1b9b9f2e7539bcUL, 0xb63673f4883d092eUL, 0x6a48bf603112a5b6UL, 0xb4bb81fdf7f038fdUL,
        0xcbe7b570beab5943UL, 0xb32f6363f9fcd740UL, 0x69daeee766778578UL, 0x28c657f61fab27a7UL,
        0xb91cf320c999a8a1UL, 0x2e52ba77c133f42bUL, 0x9deef859534c3406UL, 0xbe5b865b306253c4UL,
        0xcad7bfde976e4252UL, 0x2ec96e6b3842fe72UL, 0xed879fb271ea6dbbUL, 0x1efdc709bda0b3a0UL,
        0x40f32eb90e5caa01UL, 0xb3ddcf97e4306889UL, 0x125bfd33fe0ecf41UL, 0xbe0542cbf1796033UL,
        0xf2e2d6286459e2a9UL, 0x0c5326bd8821d4e9UL, 0x8425a93914df07e5UL, 0x000226b470bee2afUL,
        0x1936427e13b4efceUL, 0x36c28690166f43b6UL, 0xcc1b5a91be020cdeUL, 0xe5c7361072f2de62UL,
        0xb657b2d87db106eeUL, 0x50145d8785ee996bUL, 0x251aee6536aa2a42UL, 0xc4ae6490aab5af84UL,
        0x9e9bfc35779f33f3UL, 0x49bf088acd94932cUL, 0xc3dad9832ede538aUL, 0x4a31864fc27f7dddUL,
        0x3add60cebf1ba980UL, 0x6ce7dea06a3651aaUL, 0x93f4b06b421cae73UL, 0xf9c9553043523ac7UL,
        0x60c8e04eca001811UL, 0x621d0e524565f58dUL, 0x3afbc2bad828d5f3UL, 0x5a693d7dd9ea397bUL,
        0xdc7727b1bc10d1e7UL, 0x49c168336e90d6faUL, 0xeacaa55f345e81e8UL, 0x914c2434bc938c11UL,
        0x49a130134ae4712fUL, 0x70418de07c33d518UL, 0xb6c46967a527c5f0UL, 0x23d5e96aedf9fddbUL,
        0x986925e835b0396eUL, 0x0563048411e67e18UL, 0xc1f2977b2052655fUL, 0x4bec2a224880c794UL,
        0x136969eed9b76a41UL, 0x416bcddac2720631UL, 0xdcccf3e91883604bUL, 0xce44e3f9754730f4UL,
        0x35b5d7f99fe567edUL, 0x2f829f48c3de0f66UL, 0x84506f60d7f8287dUL, 0xb6770e806048add8UL,
        0xa10c94bef7174647UL, 0x1ace8010a020d7edUL, 0x499de2f3803fcdfbUL, 0x7cada474463dca99UL,
        0xbf8e9bee9b0e773aUL, 0xeeb4ee690e3d215dUL, 0x0b1673a38d1e3e7eUL, 0x74fbce74d2fe60f8UL,
        0x7fd20f1452dfbc03UL, 0xd66e58c6be0bb6f5UL, 0xc8ed9b3b7ab60e79UL, 0x45b681723322c1daUL,
        0x370653e1f282b7f3UL, 0xe303a81022a4d335UL, 0x7bd4badf32c2109cUL, 0xa68aa3a27cd5a3faUL,
        0xba1ac8058cfdb3c1UL, 0x78a3316389d20f04UL, 0x247bd40c5cb683a9UL, 0xc5108b8165773fc1UL,
        0x45d166fb79c7c999UL, 0xdf3262333d4db4a9UL, 0x005d4d41c837dd5aUL, 0x3d11bd2872e494f2UL,
        0xca374e26504c25b9UL, 0x7bae863efa81e690UL, 0x29c8c794585501a8UL, 0x4f8fae11ab149012UL,
        0x3c345c932a87767dUL, 0xf3ba6d9fc095cd6cUL, 0x922ec7bd5017c305UL, 0x22fceef9724c5cb0UL,
        0xd08d8a2a0eb43abfUL, 0xa916f7888a1e6b29UL, 0x2e2c44354ca22282UL, 0x17a9ec77665f6489UL,
        0xad1e8f0ee811626cUL, 0x5d4abe0923d10d72UL, 0x439cb274c0c66080UL, 0x149903cb87963e0aUL,
        0x40536db57e881d60UL, 0x4a143dceeda4cd43UL, 0xb6b24e56b9733b9fUL, 0x3d04be29e04c183dUL,
        0x82f29a9d9d95d2fcUL, 0xfa6c1ed6fbba1f2bUL, 0x1172c3eb54e402e1UL, 0xae78bb983e7ba6ffUL,
        0x946f7a74f44805c0UL, 0xeb5dead213fea974UL, 0x2031c84bc57a1a9fUL, 0xcc79d4ba95da7979UL,
        0x902d34061d0c9b0dUL, 0x43b6d221b3111645UL, 0xf4edef10db556f29UL, 0xd23a1f4d446476b6UL,
        0xc537780b6fc3a700UL, 0xfb687f7817e37c58UL, 0x098ecbed8fd618bdUL, 0x6e771631bed6b1bdUL,
        0xdb5d1814fec5e834UL, 0x436a00a70b9c1ffbUL, 0xcd0b9e228116aad2UL, 0xb9283aba3478a00fUL,
        0x553997940f08b9baUL, 0xd7fc9e2ce6a87ccfUL, 0x9570d22d62e5b76aUL, 0xba108e8ee785d862UL,
        0x9b94c379263d7fe1UL, 0x139e088b074371eaUL, 0x387e353d76c492ebUL, 0xb5d71307a4ed9c93UL,
        0x25635f216bb32ec7UL, 0x22cfe733f6eabdf4UL, 0xc24bd5b02665493bUL, 0xb5fa553ba950da75UL,
        0x85cf1e78f1d848e8UL, 0x340f5b7791e4548fUL, 0x4987ca0380f3d80fUL, 0x95edf617b8cd85fcUL,
        0x1c08973b9ade51d4UL, 0x32b4281dd7eaa585UL, 0xa5d0883f38405227UL, 0x71565ae438045cf9UL,
        0xc264c50383da6de5UL, 0xc7a19295a6b002c6UL, 0xc9098cdae4a2f20cUL, 0xa4cd94704fc2e100UL,
        0x968a9827fa1d723aUL, 0x888136b86aece8d5UL, 0x5ca68e8c674ced20UL, 0x40a732d5c0c1f5e2UL,
        0x55284b90c2e6ca4aUL, 0xc77f596870d355b7UL, 0x3fee66f3d37192c5UL, 0x5ef86ac236cd271aUL,
        0xeb9e167f344ca480UL, 0x0d5e1ac5adbebab1UL, 0xae1492904a9d2aaeUL, 0x16f569382632ac90UL,
        0xfe1b0348b544ecbeUL, 0xd0eb2b0ca8b71475UL, 0x743851a0b2c65cfcUL, 0x6631244700f2e4a4UL,
        0x9b4fa5cac1ef9989UL, 0xf785bc5b7cfdff86UL, 0x7e7e32e03fbbff62UL, 0x27f86b342dd5aa61UL,
        0x16a43bae5cd6c6d8UL, 0x209fd66b1728f0c5UL, 0x591e9402f3fd441fUL, 0x71f18bea3ec92b69UL,
        0xdd8e83ed443749feUL, 0xf853fb08a3c22903UL,
    };

    /// <summary>farmhash.cc's <c>Setup()</c>: the test data, byte i from two mixing accumulators.</summary>
    private static byte[] SelfTestData()
    {
        const ulong k0 = 0xc3a5c85c97cb3127UL;
        var data = new byte[1 << 20];
        ulong a = 9, b = 777;
        unchecked
        {
            for (var i = 0; i < data.Length; i++)
            {
                a += b;
                b += a;
                a = (a ^ (a >> 41)) * k0;
                b = ((b ^ (b >> 41)) * k0) + (ulong)i;
                data[i] = (byte)(b >> 37);
            }
        }

        return data;
    }

    /// <summary>farmhash.cc's <c>RunTest()</c> cases, in order.</summary>
    private static List<(int Offset, int Length)> SelfTestCases()
    {
        var cases = new List<(int, int)>();
        var i = 0;
        for (; i < 299; i++)
        {
            cases.Add((i * i, i));
        }

        for (; i < 1 << 20; i += i / 7)
        {
            cases.Add((0, i));
        }

        cases.Add((0, 1 << 20));
        return cases;
    }

    [Test]
    public void Fingerprint64_FarmhashSelfTest_MatchesEveryExpectedValue()
    {
        var data = SelfTestData();
        var cases = SelfTestCases();
        Assert.That(cases, Has.Count.EqualTo(Expected.Length));
        var wrong = cases.Select((c, k) => (c, k, Actual: FarmHash.Fingerprint64(data.AsSpan(c.Offset, c.Length))))
            .Where(r => r.Actual != Expected[r.k]).Select(r => $"offset {r.c.Offset} length {r.c.Length}: {r.Actual:x16}, expected {Expected[r.k]:x16}").ToArray();
        Assert.That(wrong, Is.Empty);
    }

    [Test]
    public void Fingerprint64_EmptyInput_IsTheConstantK2()
    {
        // farmhashna::HashLen0to16 returns k2 for no bytes.
        Assert.That(FarmHash.Fingerprint64(ReadOnlySpan<byte>.Empty), Is.EqualTo(0x9ae16a3b2f90404fUL));
    }
}
