using System.Text;
using KerasStyle.Datasets;
using KerasStyle.Layers;
using KerasStyle.Models;
using KerasStyle.Preprocessing;

namespace KerasStyle.Tests.Datasets;

/// <summary>
/// TextDatasetFromDirectory: file order, class indices and shuffled order as Keras 3.16's index_directory gives them
/// (fixture: index_directory runs without TensorFlow), Keras' argument errors (fixture and text_dataset_utils_test.py),
/// label encodings, validation splits, byte-wise max_length, symbolic links, and the Tokenizer path to Fit.
/// </summary>
public class TextDatasetUtilsTests
{
    private DirectoryInfo scratch = null!;

    [SetUp]
    public void CreateScratch() => scratch = Directory.CreateTempSubdirectory("kerasstyle-text-");

    [TearDown]
    public void DeleteScratch() => scratch.Delete(recursive: true);

    private string Root => scratch.FullName;

    private string Write(string relative, string? text = null)
    {
        var path = Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text ?? relative, new UTF8Encoding(false));
        return path;
    }

    /// <summary>The fixture's folder (the script wrote each file's relative path into it).</summary>
    private void WriteFixtureLayout()
    {
        foreach (var rel in DataUtilsFixture.Get("index_directory")["layout"]!.AsArray())
        {
            Write(rel!.GetValue<string>());
        }
    }

    private string[] Relative(IEnumerable<string> paths) => paths.Select(p => Path.GetRelativePath(Root, p).Replace(Path.DirectorySeparatorChar, '/')).ToArray();

    private static string[] Strings(string index, string key) => DataUtilsFixture.Get("index_directory")[index]![key]!.AsArray().Select(v => v!.ToString()).ToArray();

    private static int[] Ints(string index, string key) => DataUtilsFixture.Get("index_directory")[index]![key]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();

    [Test]
    public void Inferred_FileOrderAndClassIndices_MatchKerasIndexDirectory()
    {
        WriteFixtureLayout();

        var ds = TextDatasetUtils.TextDatasetFromDirectory(Root, shuffle: false);

        Assert.That(Relative(ds.FilePaths), Is.EqualTo(Strings("inferred", "paths")));
        Assert.That(ds.Labels, Is.EqualTo(Ints("inferred", "labels")));
        Assert.That(ds.ClassNames, Is.EqualTo(Strings("inferred", "class_names")), "sorted by code point, hidden folders left out, an empty class kept");
    }

    [Test]
    public void ClassNames_KeepTheirOrderAndSelectFolders_AsKeras()
    {
        WriteFixtureLayout();

        var ds = TextDatasetUtils.TextDatasetFromDirectory(Root, classNames: ["b_class", "a_class"], shuffle: false);

        Assert.That(Relative(ds.FilePaths), Is.EqualTo(Strings("class_names", "paths")));
        Assert.That(ds.Labels, Is.EqualTo(Ints("class_names", "labels")));
        Assert.That(ds.ClassNames, Is.EqualTo(new[] { "b_class", "a_class" }));
    }

    [Test]
    public void NoLabels_ReadTheWholeTree_AsKeras()
    {
        WriteFixtureLayout();

        var ds = TextDatasetUtils.TextDatasetFromDirectory(Root, labels: null, shuffle: false);

        Assert.That(Relative(ds.FilePaths), Is.EqualTo(Strings("none", "paths")));
        Assert.That((ds.Labels, ds.ClassNames, ds.LabelMode), Is.EqualTo(((IReadOnlyList<int>?)null, (IReadOnlyList<string>?)null, (string?)null)));
        Assert.That(ds.First().Texts[0], Is.EqualTo("top.txt"));
        Assert.That(ds.First().Labels, Is.Null);
    }

    [Test]
    public void LabelModeNone_DropsTheLabels_AsKeras()
    {
        WriteFixtureLayout();

        var ds = TextDatasetUtils.TextDatasetFromDirectory(Root, labelMode: null, shuffle: false);

        Assert.That(Relative(ds.FilePaths), Is.EqualTo(Strings("none", "paths")), "labels=None: the whole tree");
        Assert.That(ds.Labels, Is.Null);
    }

    [Test]
    public void GivenLabels_FollowTheSortedFilesAndNameTheClasses_AsKeras()
    {
        WriteFixtureLayout();
        var given = Ints("given", "labels_in");

        var ds = TextDatasetUtils.TextDatasetFromDirectory(Root, labels: DirectoryLabels.Of(given), shuffle: false, batchSize: 100);

        Assert.That(Relative(ds.FilePaths), Is.EqualTo(Strings("given", "paths")));
        Assert.That(ds.Labels, Is.EqualTo(Ints("given", "labels")));
        Assert.That(ds.ClassNames, Is.EqualTo(Strings("given", "class_names")));
        Assert.That(ds.First().Labels, Is.EqualTo(given));
    }

    [Test]
    public void Shuffled_IsNumPysRandomStateShuffleOfKerasIndex()
    {
        WriteFixtureLayout();

        var ds = TextDatasetUtils.TextDatasetFromDirectory(Root, seed: 1337);

        Assert.That(Relative(ds.FilePaths), Is.EqualTo(Strings("inferred_shuffled", "paths")));
        Assert.That(ds.Labels, Is.EqualTo(Ints("inferred_shuffled", "labels")));
        foreach (var batch in ds)
        {
            for (var i = 0; i < batch.Texts.Length; i++)
            {
                Assert.That(batch.Texts[i].Split('/')[0], Is.EqualTo(ds.ClassNames![((int[])batch.Labels!)[i]]), "each text keeps its label");
            }
        }
    }

    [TestCase(0, 10)]
    [TestCase(1337, 16)]
    [TestCase(123, 6)]
    [TestCase(4294967295L, 7)]
    [TestCase(42, 1000)]
    public void NumPyShuffle_MatchesRandomStateShuffle(long seed, int n)
    {
        var expected = DataUtilsFixture.Get("shuffles").AsArray().Single(s => s!["seed"]!.GetValue<long>() == seed && s["n"]!.GetValue<int>() == n)!["numpy"]!.AsArray().Select(v => v!.GetValue<int>());
        var order = Enumerable.Range(0, n).ToArray();

        MersenneTwister.NumPy((uint)seed).NumPyShuffle(order);

        Assert.That(order, Is.EqualTo(expected));
    }

    [Test]
    public void LabelModes_EncodeAsKeras()
    {
        for (var i = 0; i < 4; i++)
        {
            Write($"class_{i % 2}/text_{i}.txt", $"text {i}");
        }

        var asInt = TextDatasetUtils.TextDatasetFromDirectory(Root, shuffle: false, batchSize: 8).Single();
        var binary = TextDatasetUtils.TextDatasetFromDirectory(Root, labelMode: "binary", shuffle: false, batchSize: 8).Single();
        var categorical = TextDatasetUtils.TextDatasetFromDirectory(Root, labelMode: "categorical", shuffle: false, batchSize: 8).Single();

        Assert.That(asInt.Texts, Is.EqualTo(new[] { "text 0", "text 2", "text 1", "text 3" }));
        Assert.That(asInt.Labels, Is.EqualTo(new[] { 0, 0, 1, 1 }));
        Assert.That(binary.Labels, Is.EqualTo(new float[,] { { 0 }, { 0 }, { 1 }, { 1 } }));
        Assert.That(categorical.Labels, Is.EqualTo(new float[,] { { 1, 0 }, { 1, 0 }, { 0, 1 }, { 0, 1 } }));
    }

    [Test]
    public void Batches_SplitTheFiles_AndNullBatchSizeGivesOneTextEach()
    {
        for (var i = 0; i < 10; i++)
        {
            Write($"c/{i:00}.txt");
        }

        var batched = TextDatasetUtils.TextDatasetFromDirectory(Root, labelMode: null, batchSize: 4, shuffle: false);
        var single = TextDatasetUtils.TextDatasetFromDirectory(Root, labelMode: null, batchSize: null, shuffle: false);

        Assert.That(batched.Select(b => b.Texts.Length), Is.EqualTo(new[] { 4, 4, 2 }));
        Assert.That(single.Count, Is.EqualTo(10));
        Assert.That(single.All(b => b.Texts.Length == 1));
    }

    [Test]
    public void ValidationSplit_TheLastFilesAfterTheShuffleAreValidation_AsKerasGetTrainingOrValidationSplit()
    {
        foreach (var split in DataUtilsFixture.Get("validation_splits").AsArray())
        {
            var n = split!["n"]!.GetValue<int>();
            var v = split["validation_split"]!.GetValue<double>();
            var paths = Enumerable.Range(0, n).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();

            var (training, _) = TextDatasetUtils.Subset(paths, null, v, "training");
            var (validation, _) = TextDatasetUtils.Subset(paths, null, v, "validation");

            Assert.That(training.Select(int.Parse), Is.EqualTo(split["training"]!.AsArray().Select(x => x!.GetValue<int>())), $"n {n}, split {v}");
            Assert.That(validation.Select(int.Parse), Is.EqualTo(split["validation"]!.AsArray().Select(x => x!.GetValue<int>())), $"n {n}, split {v}");
        }
    }

    [Test]
    public void ValidationSplit_KerasTest_8Training2Validation_DisjointWithTheSameSeed()
    {
        for (var i = 0; i < 10; i++)
        {
            Write($"class_{i % 2}/text_{i}.txt");
        }

        var training = TextDatasetUtils.TextDatasetFromDirectory(Root, batchSize: 10, validationSplit: 0.2, subset: "training", seed: 1337);
        var validation = TextDatasetUtils.TextDatasetFromDirectory(Root, batchSize: 10, validationSplit: 0.2, subset: "validation", seed: 1337);
        var (bothTraining, bothValidation) = TextDatasetUtils.TextDatasetFromDirectoryBoth(Root, 0.2, batchSize: 10, seed: 1337);

        Assert.That(training.Single().Texts, Has.Length.EqualTo(8));
        Assert.That(validation.Single().Texts, Has.Length.EqualTo(2));
        Assert.That(training.FilePaths.Intersect(validation.FilePaths), Is.Empty);
        Assert.That(bothTraining.FilePaths, Is.EqualTo(training.FilePaths));
        Assert.That(bothValidation.FilePaths, Is.EqualTo(validation.FilePaths));
        Assert.That(bothValidation.ClassNames, Is.EqualTo(new[] { "class_0", "class_1" }));
    }

    [Test]
    public void MaxLength_CountsUtf8Bytes_AndDropsACutCharacter()
    {
        Write("c/a.txt", "héllo wörld");

        var five = TextDatasetUtils.TextDatasetFromDirectory(Root, maxLength: 5, shuffle: false).Single().Texts[0];
        var two = TextDatasetUtils.TextDatasetFromDirectory(Root, maxLength: 2, shuffle: false).Single().Texts[0];
        var three = TextDatasetUtils.TextDatasetFromDirectory(Root, maxLength: 3, shuffle: false).Single().Texts[0];

        Assert.That(five, Is.EqualTo("héll"), "h + é (2 bytes) + ll = 5 bytes");
        Assert.That(two, Is.EqualTo("h"), "the cut falls inside é");
        Assert.That(three, Is.EqualTo("hé"));
    }

    [Test]
    public void Encodings_BytesAsTensorFlowReadsThem_BomKeptInvalidUtf8Refused()
    {
        var bom = Path.Combine(Root, "c", "bom.txt");
        Directory.CreateDirectory(Path.GetDirectoryName(bom)!);
        File.WriteAllBytes(bom, [0xEF, 0xBB, 0xBF, (byte)'h', (byte)'i']);

        Assert.That(TextDatasetUtils.TextDatasetFromDirectory(Root, shuffle: false).Single().Texts[0], Is.EqualTo("\uFEFFhi"));

        File.WriteAllBytes(Path.Combine(Root, "c", "latin1.txt"), [(byte)'c', 0xE9]);
        var error = Assert.Throws<InvalidDataException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root, shuffle: false).ToList());
        Assert.That(error!.Message, Does.Contain("latin1.txt").And.Contain("not valid UTF-8"));
    }

    [Test]
    public void Errors_AsKerasTextDatasetUtilsTest()
    {
        for (var i = 0; i < 5; i++)
        {
            Write($"class_{i % 3}/text_{i}.txt");
        }

        Assert.That(Assert.Throws<ArgumentException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root, labels: "other"))!.Message, Does.Contain("`labels` argument should be"));
        Assert.That(Assert.Throws<ArgumentException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root, labelMode: "other"))!.Message, Does.Contain("`label_mode` argument must be"));
        Assert.That(Assert.Throws<ArgumentException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root, labels: DirectoryLabels.Of([0, 0, 1, 1, 1]), classNames: ["class_0", "class_1", "class_2"]))!.Message, Does.Contain("only pass `class_names` if `labels=\"inferred\"`"));
        Assert.That(Assert.Throws<ArgumentException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root, labels: DirectoryLabels.Of([0, 0, 1, 1])))!.Message, Does.Contain("Expected the lengths of `labels` to match the number of files"));
        Assert.That(Assert.Throws<ArgumentException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root, classNames: ["class_0", "wrong_class"]))!.Message, Does.Contain("`class_names` passed did not match"));
        Assert.That(Assert.Throws<ArgumentException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root, labelMode: "binary"))!.Message, Does.Contain("there must be exactly 2"));
        Assert.That(Assert.Throws<ArgumentException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root, validationSplit: 2))!.Message, Does.Contain("`validation_split` must be between 0 and 1"));
        Assert.That(Assert.Throws<ArgumentException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root, validationSplit: 0.2, subset: "other", seed: 1))!.Message, Does.Contain("`subset` must be either \"training\", \"validation\" or \"both\""));
        Assert.That(Assert.Throws<ArgumentException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root, validationSplit: 0.0, subset: "training"))!.Message, Does.Contain("`validation_split` must be set"));
        Assert.That(Assert.Throws<ArgumentException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root, validationSplit: 0.2, subset: "training"))!.Message, Does.Contain("must provide a `seed`"));
        Assert.That(Assert.Throws<ArgumentException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root, validationSplit: 0.2, subset: "both", seed: 1))!.Message, Does.Contain("TextDatasetFromDirectoryBoth"));
        Assert.That(Assert.Throws<ArgumentException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root, labels: DirectoryLabels.Of([0, 1, 5, 0, 1]), labelMode: "categorical"))!.Message, Does.Contain("label 5"));
        Assert.Throws<DirectoryNotFoundException>(() => TextDatasetUtils.TextDatasetFromDirectory(Path.Combine(Root, "missing")));
    }

    [Test]
    public void ErrorMessages_MatchKerasIndexDirectoryAndSplitChecks()
    {
        WriteFixtureLayout();
        var errors = DataUtilsFixture.Get("index_directory")["errors"]!;
        var mismatch = Assert.Throws<ArgumentException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root, classNames: ["a_class", "wrong"]))!.Message;
        Assert.That(mismatch, Does.Contain(errors["class_names_mismatch"]!["message"]!.GetValue<string>()));
        var length = Assert.Throws<ArgumentException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root, labels: DirectoryLabels.Of([0, 1])))!.Message;
        Assert.That(length, Does.Contain(errors["labels_length"]!["message"]!.GetValue<string>().Split(" in directory")[0]));
        var split = DataUtilsFixture.Get("validation_split_errors");
        foreach (var (name, call) in new (string, Action)[]
        {
            ("split_2", () => TextDatasetUtils.CheckValidationSplit(2, "training", false, 1)),
            ("subset_other", () => TextDatasetUtils.CheckValidationSplit(0.2, "other", false, 1)),
            ("subset_without_split", () => TextDatasetUtils.CheckValidationSplit(0.0, "training", false, 1)),
            ("split_without_subset", () => TextDatasetUtils.CheckValidationSplit(0.2, null, false, 1)),
            ("no_seed", () => TextDatasetUtils.CheckValidationSplit(0.2, "training", true, null)),
        })
        {
            var keras = split[name]!["message"]!.GetValue<string>().Replace("received: 2", "received: 2.0");
            Assert.That(Assert.Throws<ArgumentException>(() => call())!.Message, Does.Contain(keras), name);
        }
    }

    [Test]
    public void NoFiles_IsRefusedAsKeras()
    {
        Directory.CreateDirectory(Path.Combine(Root, "class_0"));

        Assert.That(Assert.Throws<ArgumentException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root))!.Message, Does.Contain("No text files found"));
    }

    [Test]
    public void SymlinkOutsideTheFolder_IsRefusedUnlessFollowLinks()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Ignore("symbolic links need privileges on Windows");
        }

        var outside = Directory.CreateTempSubdirectory("kerasstyle-outside-");
        try
        {
            File.WriteAllText(Path.Combine(outside.FullName, "secret.txt"), "secret");
            var root = Path.Combine(Root, "data");
            Write("data/class_0/a.txt", "a");
            File.CreateSymbolicLink(Path.Combine(root, "class_0", "link.txt"), Path.Combine(outside.FullName, "secret.txt"));

            var error = Assert.Throws<UnauthorizedAccessException>(() => TextDatasetUtils.TextDatasetFromDirectory(root));
            Assert.That(error!.Message, Does.Contain("link.txt").And.Contain("followLinks"));
            var followed = TextDatasetUtils.TextDatasetFromDirectory(root, followLinks: true, shuffle: false);
            Assert.That(followed.Texts(), Is.EqualTo(new[] { "a", "secret" }));

            File.Delete(Path.Combine(root, "class_0", "link.txt"));
            Directory.CreateSymbolicLink(Path.Combine(root, "class_1"), outside.FullName);
            Assert.That(Assert.Throws<UnauthorizedAccessException>(() => TextDatasetUtils.TextDatasetFromDirectory(root))!.Message, Does.Contain("class_1"));
            Assert.That(TextDatasetUtils.TextDatasetFromDirectory(root, followLinks: true, shuffle: false).Labels, Is.EqualTo(new[] { 0, 1 }));
        }
        finally
        {
            outside.Delete(recursive: true);
        }
    }

    [Test]
    public void SymlinksInside_AreUsedAsKeras_LinkedFoldersOnlyWithFollowLinks_CyclesEnd()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Ignore("symbolic links need privileges on Windows");
        }

        Write("c/real/a.txt", "a");
        File.CreateSymbolicLink(Path.Combine(Root, "c", "alias.txt"), Path.Combine(Root, "c", "real", "a.txt"));
        Directory.CreateSymbolicLink(Path.Combine(Root, "c", "linked"), Path.Combine(Root, "c", "real"));
        Directory.CreateSymbolicLink(Path.Combine(Root, "c", "real", "loop"), Path.Combine(Root, "c"));

        var plain = TextDatasetUtils.TextDatasetFromDirectory(Root, shuffle: false);
        var followed = TextDatasetUtils.TextDatasetFromDirectory(Root, shuffle: false, followLinks: true);

        Assert.That(Relative(plain.FilePaths), Is.EqualTo(new[] { "c/alias.txt", "c/real/a.txt" }), "a linked file is listed (os.walk lists it); linked folders are not walked");
        Assert.That(Relative(followed.FilePaths), Is.EqualTo(new[] { "c/alias.txt", "c/linked/a.txt", "c/real/a.txt" }), "the loop back to c is skipped");
    }

    [Test]
    public void UnreadableFile_GivesAClearError()
    {
        if (OperatingSystem.IsWindows() || Environment.UserName == "root")
        {
            Assert.Ignore("file modes do not stop this user");
            return;
        }

        var path = Write("c/a.txt");
        File.SetUnixFileMode(path, UnixFileMode.None);

        var error = Assert.Throws<InvalidDataException>(() => TextDatasetUtils.TextDatasetFromDirectory(Root).ToList());

        Assert.That(error!.Message, Does.Contain("cannot read").And.Contain("a.txt"));
    }

    [Test]
    public void DanglingLinkInside_GivesAClearErrorWhenRead()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Ignore("symbolic links need privileges on Windows");
        }

        Write("c/a.txt", "a");
        File.CreateSymbolicLink(Path.Combine(Root, "c", "gone.txt"), Path.Combine(Root, "c", "missing"));
        var ds = TextDatasetUtils.TextDatasetFromDirectory(Root, shuffle: false);

        var error = Assert.Throws<InvalidDataException>(() => ds.Texts().ToList());

        Assert.That(ds.SampleCount, Is.EqualTo(2), "listed, as os.walk lists it");
        Assert.That(error!.Message, Does.Contain("cannot read").And.Contain("gone.txt"));
    }

    [Test]
    public void TokenizerPath_FitsAModelOnTheDataSource()
    {
        var words = new[] { "good great fine", "bad awful poor" };
        for (var i = 0; i < 12; i++)
        {
            Write($"{(i % 2 == 0 ? "pos" : "neg")}/r{i}.txt", words[i % 2] + " movie");
        }

        var ds = TextDatasetUtils.TextDatasetFromDirectory(Root, labelMode: "binary", batchSize: 4, seed: 7);
        var tokenizer = new Tokenizer();
        tokenizer.FitOnTexts(ds.Texts());
        var source = ds.ToDataSource(texts => Sequences.PadSequences(tokenizer.TextsToSequences(texts), maxLen: 5));
        var input = new Input(shape: 5, dtype: KerasStyle.Graph.DType.Int32);
        using var model = new Model(input, new Dense(1, activation: "sigmoid").Call(new GlobalAveragePooling1D().Call(new Embedding(tokenizer.WordIndex.Count + 1, 4).Call(input))));
        model.Compile("adam", "binary_crossentropy");

        var history = model.Fit(source, epochs: 2, verbose: 0);

        Assert.That(source.Count, Is.EqualTo(3));
        Assert.That(history.Values["loss"], Has.Count.EqualTo(2));
        Assert.That(ds.ClassNames, Is.EqualTo(new[] { "neg", "pos" }));
    }

    [Test]
    public void RawTexts_BatchesHoldTheFilesAndTrainAStringInputModelAsOnTheIdsTheyImply()
    {
        // Two class folders; TextVectorization's ids for its vocabulary ("" 0, [UNK] 1, baz 2, bar 3, foo 4) by hand.
        var files = new[] { ("pos/a.txt", "Foo bar!"), ("neg/b.txt", "qux BAZ"), ("pos/c.txt", "bar, bar foo"), ("neg/d.txt", "baz") };
        foreach (var (path, content) in files)
        {
            Write(path, content);
        }

        var ids = new Dictionary<string, long[]>
        {
            ["Foo bar!"] = new long[] { 4, 3, 0 }, ["qux BAZ"] = new long[] { 1, 2, 0 }, ["bar, bar foo"] = new long[] { 3, 3, 4 }, ["baz"] = new long[] { 2, 0, 0 },
        };
        var ds = TextDatasetUtils.TextDatasetFromDirectory(Root, labelMode: "binary", batchSize: 2, shuffle: false);
        var raw = ds.ToDataSource();
        var first = raw.GetBatch(0);
        Assert.That(first.X.Arrays![0], Is.EqualTo(new[] { "qux BAZ", "baz" }), "neg (class 0) sorts first; the batch holds the files' texts");
        Assert.That(first.Y!.Arrays![0], Is.EqualTo(new float[,] { { 0 }, { 0 } }));
        Assert.That(raw.GetBatch(1).X.Arrays![0], Is.EqualTo(new[] { "Foo bar!", "bar, bar foo" }));

        var tokens = new Input(new[] { 3 }, KerasStyle.Graph.DType.Int64);
        using var numeric = new Model(tokens, new Dense(1, activation: "sigmoid").Call(new GlobalAveragePooling1D().Call(new Embedding(5, 2).Call(tokens))));
        var start = numeric.GetWeights();
        var text = new Input(Array.Empty<int>(), KerasStyle.Graph.DType.String);
        using var model = new Model(text, numeric.Call(new TextVectorization(outputSequenceLength: 3, vocabulary: new[] { "baz", "bar", "foo" }).Call(text)));
        model.Compile(new KerasStyle.Training.Optimizers.SGD(0.5), "binary_crossentropy");
        var history = model.Fit(raw, epochs: 2, verbose: 0, shuffle: false);
        var trainedOnText = numeric.GetWeights();
        var textLoss = model.Evaluate(raw)["loss"];

        numeric.SetWeights(start);
        numeric.Compile(new KerasStyle.Training.Optimizers.SGD(0.5), "binary_crossentropy");
        var encoded = ds.ToDataSource(texts =>
        {
            var rows = new long[texts.Length, 3];
            for (var i = 0; i < texts.Length; i++)
            {
                for (var j = 0; j < 3; j++)
                {
                    rows[i, j] = ids[texts[i]][j];
                }
            }

            return rows;
        });
        numeric.Fit(encoded, epochs: 2, verbose: 0, shuffle: false);
        Assert.That(history.Values["loss"], Has.Count.EqualTo(2));
        var trainedOnIds = numeric.GetWeights();
        for (var i = 0; i < trainedOnIds.Count; i++)
        {
            Assert.That(trainedOnText[i].Data, Is.EqualTo(trainedOnIds[i].Data).Within(1e-6));
        }

        Assert.That(textLoss, Is.EqualTo(numeric.Evaluate(encoded)["loss"]).Within(1e-6));
    }

    [TestCase("int", "sparse_categorical_crossentropy")]
    [TestCase("categorical", "categorical_crossentropy")]
    public void RawTexts_ThreeClassesInEachLabelMode_AdaptFitAndEvaluateAStringInputOfShapeOne(string labelMode, string loss)
    {
        var words = new[] { "red apple cherry", "green leaf grass", "blue sky sea" };
        for (var i = 0; i < 9; i++)
        {
            Write($"{(char)('a' + (i % 3))}/t{i}.txt", words[i % 3] + " thing");
        }

        var ds = TextDatasetUtils.TextDatasetFromDirectory(Root, labelMode: labelMode, batchSize: 4, seed: 3);
        var vectorize = new TextVectorization(maxTokens: 20, outputSequenceLength: 4);
        vectorize.Adapt(ds.TextBatches());
        Assert.That(vectorize.VocabularySize(), Is.EqualTo(12), "\"\", [UNK] and the 10 distinct words");
        var text = new Input(new[] { 1 }, KerasStyle.Graph.DType.String);
        var x = new GlobalAveragePooling1D().Call(new Embedding(20, 4).Call(vectorize.Call(text)));
        using var model = new Model(text, new Dense(3, activation: "softmax").Call(x));
        model.Compile("adam", loss, new[] { "accuracy" });
        var source = ds.ToDataSource();

        var history = model.Fit(source, epochs: 2, verbose: 0);
        var scores = model.Evaluate(source);

        Assert.That(history.Values["loss"], Has.Count.EqualTo(2));
        Assert.That(double.IsFinite(scores["loss"]) && scores["accuracy"] is >= 0 and <= 1, Is.True);
        var batch = source.GetBatch(2);
        Assert.That(batch.X.Arrays![0], Is.TypeOf<string[]>().And.Length.EqualTo(1), "9 files in batches of 4: the last holds one text");
        Assert.That(batch.Y!.Arrays![0], labelMode == "int" ? Is.TypeOf<int[]>() : Is.TypeOf<float[,]>());
    }

    [Test]
    public void RawTexts_ToANumericInput_RefusedAskingForAStringInput()
    {
        Write("pos/a.txt", "good");
        Write("neg/b.txt", "bad");
        var ds = TextDatasetUtils.TextDatasetFromDirectory(Root, labelMode: "binary", seed: 1);
        var input = new Input(new[] { 1 });
        using var model = new Model(input, new Dense(1).Call(input));
        model.Compile("sgd", "mse");
        Assert.That(() => model.Fit(ds.ToDataSource(), epochs: 1, verbose: 0), Throws.InstanceOf<Exception>().With.Message.Contains("DType.String"));
        Assert.That(() => ds.ToDataSource(workers: 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }
}
