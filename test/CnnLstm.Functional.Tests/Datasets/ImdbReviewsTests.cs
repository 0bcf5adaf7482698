using System.IO.Compression;
using System.Text;
using KerasStyle.Datasets;

namespace KerasStyle.Tests.Datasets;

public class ImdbReviewsTests
{
    private DirectoryInfo scratch = null!;

    [SetUp]
    public void CreateScratch() => scratch = Directory.CreateTempSubdirectory("kerasstyle-imdb-");

    [TearDown]
    public void DeleteScratch() => scratch.Delete(recursive: true);

    [Test]
    public void Header_IsTheSharedFilesHeader() => Assert.That(ImdbReviews.Header, Is.EqualTo("label\tid\trating\ttext"));

    [Test]
    public void Read_RealTrainFile_Has25000ReviewsHalfPositiveSortedByLabelThenId()
    {
        var reviews = ImdbReviews.Read(TestPaths.DataFile("imdb/imdb_train.tsv.gz"));

        Assert.That(reviews, Has.Count.EqualTo(25000));
        Assert.That(reviews.Count(r => r.Label == 0), Is.EqualTo(12500));
        Assert.That(reviews.Count(r => r.Label == 1), Is.EqualTo(12500));
        // Maas et al.: negative reviews are rated 1-4, positive ones 7-10.
        Assert.That(reviews.Where(r => r.Label == 0).Select(r => r.Rating), Has.All.InRange(1, 4));
        Assert.That(reviews.Where(r => r.Label == 1).Select(r => r.Rating), Has.All.InRange(7, 10));
        Assert.That(reviews.Select(r => (r.Label, r.Id)), Is.Ordered);
        Assert.That(reviews.Select(r => r.Text), Has.None.Empty);
        Assert.That(reviews[0], Has.Property(nameof(ImdbReview.Label)).EqualTo(0).And.Property(nameof(ImdbReview.Id)).EqualTo(0).And.Property(nameof(ImdbReview.Rating)).EqualTo(3));
        Assert.That(reviews[0].Text, Does.StartWith("Story of a man who has unnatural feelings for a pig."));
    }

    [Test]
    public void Read_SliceOfTheRealTestFileAsGzipOrPlain_GivesTheSameReviews()
    {
        var lines = FirstLines(TestPaths.DataFile("imdb/imdb_test.tsv.gz"), 51);
        var gz = Path.Combine(scratch.FullName, "slice.tsv.gz");
        var tsv = Path.Combine(scratch.FullName, "slice.tsv");
        using (var gzip = new GZipStream(File.Create(gz), CompressionLevel.Fastest))
        {
            gzip.Write(Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n"));
        }

        File.WriteAllText(tsv, string.Join("\n", lines) + "\n");

        var fromGz = ImdbReviews.Read(gz);
        var fromTsv = ImdbReviews.Read(tsv);

        Assert.That(fromGz, Has.Count.EqualTo(50));
        Assert.That(fromTsv, Is.EqualTo(fromGz));
        Assert.That(fromGz.Select(r => r.Label), Has.All.EqualTo(0));
        Assert.That(fromGz[0].Text, Is.EqualTo(lines[1].Split('\t', 4)[3]));
        Assert.That(fromGz.Any(r => r.Text.Contains("<br />", StringComparison.Ordinal)), Is.True, "HTML line breaks are kept in the text");
    }

    [Test]
    public void Read_CrlfLineEndsAndNoFinalNewline_AreAccepted()
    {
        var path = Write("crlf.tsv", "label\tid\trating\ttext\r\n1\t7\t9\tGood.\r\n0\t8\t2\tBad, <br />really.");

        Assert.That(ImdbReviews.Read(path), Is.EqualTo(new[] { new ImdbReview(1, 7, 9, "Good."), new ImdbReview(0, 8, 2, "Bad, <br />really.") }));
    }

    [Test]
    public void Read_MissingFile_ThrowsFileNotFoundNamingThePath()
    {
        var path = Path.Combine(scratch.FullName, "imdb_nowhere.tsv.gz");

        var error = Assert.Throws<FileNotFoundException>(() => ImdbReviews.Read(path))!;

        Assert.That(error.FileName, Is.EqualTo(path));
        Assert.That(error.Message, Does.Contain(path));
    }

    [TestCase("2\t3\t7\tlabel two", 3)]
    [TestCase("1\t3\t11\trating eleven", 3)]
    [TestCase("1\t3\t0\trating zero", 3)]
    [TestCase("1\tx3\t7\tid not a number", 3)]
    [TestCase("1\t-3\t7\tnegative id", 3)]
    [TestCase("1\t3\t7", 3)]
    [TestCase("", 3)]
    public void Read_MalformedLine_ThrowsInvalidDataNamingTheFileAndLine(string badLine, int line)
    {
        var path = Write("broken_reviews.tsv", $"label\tid\trating\ttext\n0\t1\t2\tfine\n{badLine}\n1\t4\t8\tfine too\n");

        var error = Assert.Throws<InvalidDataException>(() => ImdbReviews.Read(path))!;

        Assert.That(error.Message, Does.Contain("broken_reviews.tsv"));
        Assert.That(error.Message, Does.Match($@"(:|line ){line}\b"));
    }

    [TestCase("label,id,rating,text\n0,1,2,comma separated\n")]
    [TestCase("0\t1\t2\tno header\n")]
    [TestCase("")]
    public void Read_WrongOrMissingHeader_ThrowsInvalidDataAtLineOne(string content)
    {
        var path = Write("headless.tsv", content);

        var error = Assert.Throws<InvalidDataException>(() => ImdbReviews.Read(path))!;

        Assert.That(error.Message, Does.Contain("headless.tsv"));
        Assert.That(error.Message, Does.Match(@"(:|line )1\b"));
        Assert.That(error.Message, Does.Contain("header"));
    }

    [Test]
    public void Read_CorruptGzip_ThrowsInvalidDataNamingTheFile()
    {
        var path = Path.Combine(scratch.FullName, "corrupt_reviews.tsv.gz");
        File.WriteAllBytes(path, Encoding.ASCII.GetBytes("label\tid\trating\ttext\n0\t1\t2\tnot gzip at all\n"));

        var error = Assert.Throws<InvalidDataException>(() => ImdbReviews.Read(path))!;

        Assert.That(error.Message, Does.Contain("corrupt_reviews.tsv.gz"));
    }

    [Test]
    public void Read_TruncatedGzip_ThrowsInvalidDataNamingTheFile()
    {
        var lines = FirstLines(TestPaths.DataFile("imdb/imdb_train.tsv.gz"), 200);
        var whole = new MemoryStream();
        using (var gzip = new GZipStream(whole, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n"));
        }

        var path = Path.Combine(scratch.FullName, "truncated_reviews.tsv.gz");
        File.WriteAllBytes(path, whole.ToArray()[..(int)(whole.Length / 2)]);

        var error = Assert.Throws<InvalidDataException>(() => ImdbReviews.Read(path))!;

        Assert.That(error.Message, Does.Contain("truncated_reviews.tsv.gz"));
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(scratch.FullName, name);
        File.WriteAllText(path, content);
        return path;
    }

    private static string[] FirstLines(string gzPath, int count)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(gzPath), CompressionMode.Decompress));
        var lines = new List<string>();
        while (lines.Count < count && reader.ReadLine() is { } line)
        {
            lines.Add(line);
        }

        return lines.ToArray();
    }
}
