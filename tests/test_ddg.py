"""The ddg source against a fake at the ddgs.DDGS boundary."""

from ddgs.exceptions import DDGSException, TimeoutException

from classify_tui.core.sources.ddg import PAGE_SIZE, build_query, search_images


class FakeDDGS:
    def __init__(self, pages: dict, fail_first: int = 0, exc=DDGSException):
        self.pages = pages  # (query, page) -> list of urls
        self.calls = []
        self.fail_first = fail_first
        self.exc = exc

    def images(self, query, max_results=10, page=1, **kw):
        self.calls.append((query, page, max_results))
        if self.fail_first:
            self.fail_first -= 1
            raise self.exc("boom")
        return [{"image": u, "title": "t"} for u in self.pages.get((query, page), [])]


def collect(fake, labels, per_label, templates=("{label} photo",), excludes=()):
    events, sleeps = [], []
    out = list(search_images(list(labels), list(templates), list(excludes), per_label, events.append,
                             ddgs_factory=lambda: fake, sleep=sleeps.append))
    return out, events, sleeps


def test_query_templates_and_excludes():
    assert build_query("{label} sun photo", "crocodile", ["logo", "shoe"]) == "crocodile sun photo -logo -shoe"


def test_pages_until_enough_and_dedupes():
    q = "bird photo"
    fake = FakeDDGS({(q, 1): [f"https://x/{i}.jpg" for i in range(100)] + ["https://x/0.jpg"],
                     (q, 2): [f"https://x/{i}.jpg" for i in range(90, 150)]})
    out, _, _ = collect(fake, ["bird"], 130)
    urls = [c.source for c in out]
    assert len(urls) == 130 and len(set(urls)) == 130
    assert [c[1] for c in fake.calls] == [1, 2]
    assert all(c[2] == PAGE_SIZE for c in fake.calls)  # not ddgs' default of 10
    assert all(c.query == q and c.guard for c in out)


def test_retries_with_backoff_then_succeeds():
    q = "cat photo"
    fake = FakeDDGS({(q, 1): ["https://x/a.jpg"]}, fail_first=2, exc=TimeoutException)
    out, events, sleeps = collect(fake, ["cat"], 1)
    assert [c.source for c in out] == ["https://x/a.jpg"]
    assert sleeps == [1.0, 2.0]
    assert any("retrying" in e.message for e in events)


def test_gives_up_after_bounded_retries_and_keeps_results():
    fake = FakeDDGS({("dog photo", 1): ["https://x/d.jpg"]}, fail_first=0)
    fake.pages[("dog photo", 2)] = []
    out, events, sleeps = collect(fake, ["dog"], 50)
    assert [c.source for c in out] == ["https://x/d.jpg"]
    # an empty page may be a rate limit: it is asked twice more, with backoff, then given up on
    assert fake.calls == [("dog photo", 1, PAGE_SIZE)] + [("dog photo", 2, PAGE_SIZE)] * 3
    assert sleeps == [1.0, 2.0]
    assert any("found 1 of 50" in e.message for e in events)


def test_permanent_failure_is_a_warning_not_an_exception():
    fake = FakeDDGS({}, fail_first=99)
    out, events, sleeps = collect(fake, ["owl"], 5)
    assert out == [] and len(fake.calls) == 3 and len(sleeps) == 2
    assert any("gave up" in e.message for e in events)
