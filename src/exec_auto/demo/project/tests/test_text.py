from wordtools.text import normalize, words


def test_normalize_collapses_space_and_punctuation():
    assert normalize("  Hello,   World! ") == "hello world"


def test_words_in_order():
    assert words("b a, B") == ["b", "a", "b"]
