namespace KerasStyle.Datasets;

/// <summary>One IMDB review: label 0 (negative) or 1 (positive), its id, its 1–10 rating and its text.</summary>
/// <param name="Label">0 negative, 1 positive.</param>
/// <param name="Id">The review id within its split.</param>
/// <param name="Rating">The reviewer's rating, 1–10.</param>
/// <param name="Text">The review text (HTML line breaks kept as <c>&lt;br /&gt;</c>).</param>
public sealed record ImdbReview(int Label, int Id, int Rating, string Text);
