"""The message strip: hidden until there is something to say, text shown as typed."""

from __future__ import annotations

from widgets.banner import Banner


def test_banner_appears_with_the_message_and_shows_markup_as_text(qtbot):
    banner = Banner(error=True)
    qtbot.addWidget(banner)
    assert banner.isHidden()
    banner.show_message("Title <b>x</b> is archived")
    assert not banner.isHidden() and banner.text() == "Title <b>x</b> is archived"
    assert banner.textFormat().name == "PlainText"
