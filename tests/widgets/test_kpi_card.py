"""The KPI card: shows the caption, value and context it is given, and nothing before."""

from __future__ import annotations

from widgets.kpi_card import KpiCard


def test_a_new_card_shows_its_caption_and_no_value_yet(qtbot):
    card = KpiCard("Active subscribers")
    qtbot.addWidget(card)
    card.show()
    assert card.caption.text() == "Active subscribers"
    assert card.value.text() == "—"
    assert card.detail.text() == ""


def test_show_figure_replaces_caption_value_and_context(qtbot):
    card = KpiCard("Net revenue this month")
    qtbot.addWidget(card)
    card.resize(220, 120)
    card.show()
    card.show_figure("Net revenue, December so far", "12.00 USD",
                     "-95% on the same days of November (240.00 USD); all of November "
                     "900.00 USD")
    assert card.caption.text() == "Net revenue, December so far"
    assert card.value.text() == "12.00 USD"
    assert card.detail.text().startswith("-95% on the same days of November")
    # A long context wraps inside the card instead of widening it.
    assert card.detail.wordWrap()
    assert all(label.isVisible() for label in (card.caption, card.value, card.detail))


def test_the_value_is_larger_than_its_caption(qtbot):
    card = KpiCard("MRR")
    qtbot.addWidget(card)
    card.show_figure("MRR", "519.83 USD", "Yearly plans as 1/12")
    card.show()
    assert card.value.sizeHint().height() > card.caption.sizeHint().height()
