"""HTML is read by a real parser: a table of hostile pages, and no input makes the scan raise."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tracker.rules import signals as sig

NOAI = '<meta name="robots" content="noai">'


def noai(html: bytes | str) -> bool:
    page = sig.html_signals(html if isinstance(html, bytes) else html.encode())
    return sig.ai_directives(page["meta_robots"])["noai"]


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        (f"<html><head>{NOAI}</head></html>", True),
        (f"<html><head><!-- {NOAI} --></head></html>", False),  # commented out
        (f"<html><head><script>var s = '{NOAI}';</script></head></html>", False),  # a string in a script
        (f"<html><body><textarea>{NOAI}</textarea></body></html>", False),  # text in a form field
        (f"<html><body><![CDATA[{NOAI}]]></body></html>", False),  # CDATA in HTML is a bogus comment
        (f"<html><head><style>/* {NOAI} */</style></head></html>", False),
        (f"<html><head><title>{NOAI}</title></head></html>", False),  # RCDATA
        ("<html><head><META NAME=ROBOTS CONTENT=NOAI></head></html>", True),  # uppercase, unquoted
        ('<html><head><meta content="noai" name="robots" data-x="a>b"></head></html>', True),  # '>' in an attribute
        ('<html><head><meta name="robots" content="n&#111;ai"></head></html>', True),  # entities are decoded
        ('<html><head><meta name="robots" content="noindex"></head><head>' + NOAI + "</head></html>", True),
        ("<html><head><meta name=robots content=noai", False),  # cut by the end of the data: HTML5 drops it
        ("<html><head><meta name=robots content=noai><p>unclosed <b>tags", True),
        (f"<div><p>{NOAI}", True),  # no <html>, no <head>: a meta anywhere still counts
        ('<html><head><meta name="robots" content="noai"/><meta name="robots" content="noimageai"></head>', True),
        ("", False),
        ("\x00\x01\x02\xff binary", False),
    ],
)
def test_hostile_html(html: str, expected: bool) -> None:
    assert noai(html.encode("utf-8", "surrogateescape")) is expected


def test_binary_and_empty_bodies() -> None:
    assert sig.scan_html(b"") == sig.PageScan()
    assert sig.scan_html(None) == sig.PageScan()
    assert sig.scan_html(bytes(range(256)) * 100).metas == ()
    assert sig.page_text(b"\x00\x00").strip("\ufffd") == ""  # NULs become U+FFFD, as in a browser


def test_terms_link_nested_two_divs_inside_the_footer() -> None:
    html = b"""<html><body><a href="/help">Help</a>
      <footer class="site-footer"><div class="cols"><div class="col"><a href="/legal/terms">Terms of Use</a></div></div></footer>
      <div id="Page-Footer"><div><span><a href="/agb">AGB</a></span></div></div>
      <a href="/terms-of-sale">Terms of sale</a></body></html>"""
    links = sig.find_tos_links(html)
    assert links[0] == ("/legal/terms", "footer_text") and links[1] == ("/agb", "footer_text")
    assert ("/terms-of-sale", "page_text") in links


def test_terms_link_in_a_comment_or_script_is_not_a_link() -> None:
    html = b"""<html><body><!-- <footer><a href="/old-terms">Terms</a></footer> -->
      <script>document.write('<a href="/js-terms">Terms of Use</a>')</script><p>nothing</p></body></html>"""
    assert sig.find_tos_links(html) == []


def test_page_text_keeps_blocks_and_drops_scripts() -> None:
    text = sig.page_text(
        b"<html><head><title>T</title><style>p{}</style></head><body><h1>Terms</h1><p>You agree not to:</p>"
        b"<ul><li>scrape</li><li>train <b>AI</b> models</li></ul><script>evil()</script><p>End &amp; more</p>"
    )
    assert text.split("\n") == ["Terms", "You agree not to:", "scrape", "train AI models", "End & more"]


def test_rsl_inline_script_and_link() -> None:
    html = b"""<html><head><link rel="License" type="Application/RSL+XML" href="/license.xml">
      <script type="application/rsl+xml"><rsl><content url="/"/></rsl></script></head></html>"""
    page = sig.html_signals(html)
    assert page["rsl"][0] == {"url": "/license.xml", "location": "html_link"}
    assert page["rsl"][1]["location"] == "html_inline" and "<content" in page["rsl"][1]["inline"]


@settings(max_examples=300, deadline=None)
@given(
    data=st.one_of(
        st.binary(max_size=4000),
        st.text(max_size=4000),
        st.lists(
            st.sampled_from(
                [
                    "<",
                    ">",
                    "<meta",
                    " name=robots",
                    " content='noai'",
                    "<!--",
                    "-->",
                    "<script>",
                    "</script>",
                    "<a href=x>",
                    "</a>",
                    "<footer>",
                    "&#0;",
                    "<![CDATA[",
                    "]]>",
                    "<textarea>",
                    "\x00",
                    "é",
                    "<head>",
                ]
            ),
            max_size=60,
        ).map("".join),
    )
)
@pytest.mark.slow
def test_no_html_input_raises(data: bytes | str) -> None:
    sig.scan_html(data)
    sig.page_text(data)
    sig.find_tos_links(data)
    sig.html_signals(data, ["GPTBot"])
    sig.tos_signals(data, "https://x.test/terms", "footer_text")
