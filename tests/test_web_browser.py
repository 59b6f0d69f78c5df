"""The web pages in a real headless Chromium (Debian's package, driven by Playwright) against a real
server: run a query from the editor, switch to the network and timeline views, submit a saved query's
form, follow a result link to an entity page. Every request must stay on the server (nothing remote),
and no page may log an error (a Content-Security-Policy violation shows up as one).

Screenshots of each page go to test-artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

if not CHROMIUM.exists() and not shutil.which("chromium"):
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium): browser tests skipped",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (the test extra) is not installed")

TIMEOUT_MS = 20_000


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM if CHROMIUM.exists() else shutil.which("chromium")),
                              args=ARGS)
        yield b
        b.close()


class Page:
    """A browser tab that refuses requests leaving the server and records console errors."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.errors: list[str] = []
        self.elsewhere: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.route("**/*", self._route)

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base) or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            self.elsewhere.append(url)
            route.abort()

    def goto(self, path: str):
        self.page.goto(self.base + path)
        return self.page

    def shot(self, name: str, full_page: bool = True) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=full_page)

    def check_clean(self) -> None:
        assert not self.elsewhere, f"requests left the server: {self.elsewhere}"
        assert not self.errors, f"errors in the page: {self.errors}"

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def tab(browser, live_server):
    t = Page(browser, live_server)
    yield t
    t.close()


def test_editor_runs_a_query_and_shows_rows(tab):
    page = tab.goto("/")
    page.wait_for_selector(".CodeMirror")  # YASQE took over the textarea
    page.wait_for_selector("#results[data-state=ready]")  # the starting query ran on load
    assert page.locator(".cm-keyword").count() > 0  # syntax highlighting
    page.evaluate("""() => window.ekgYasqe.setValue(
        'PREFIX ekg: <https://w3id.org/explore-kg/ontology#>\\n' +
        'PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\\n' +
        'SELECT ?mission ?label WHERE { ?mission a ekg:Mission ; rdfs:label ?label } ORDER BY ?label')""")
    page.locator(".CodeMirror textarea").focus()
    page.keyboard.press("Control+Enter")
    page.wait_for_function("() => document.querySelector('#status').textContent.includes('results')"
                           " && document.querySelectorAll('#results table.results th').length === 2")
    page.locator("#results [data-view=table]").click()
    rows = page.locator("#results table.results tbody tr")
    assert rows.count() >= 3
    assert page.locator("#results a[href='/id/mission/mmx']").count() >= 1
    status = page.locator("#status").text_content()
    assert re.match(r"\d+ results in \d+ ms", status), status
    links = page.locator("#downloads [data-kind=bindings] a")
    assert [links.nth(i).text_content() for i in range(links.count())] == ["JSON", "XML", "CSV", "TSV"]
    assert "/sparql?query=" in links.first.get_attribute("href")
    tab.shot("editor")
    tab.check_clean()


def test_editor_shows_a_syntax_error(tab):
    page = tab.goto("/")
    page.wait_for_selector("#results[data-state=ready]")
    page.evaluate("() => window.ekgYasqe.setValue('SELECT ?x WHERE { ?x ?p }')")
    page.locator("#run").click()
    page.wait_for_selector("#results pre.error")
    assert page.locator("#status").text_content() == "Error"
    tab.errors = [e for e in tab.errors if "400" not in e]  # the endpoint's 400 is the expected answer
    tab.check_clean()


def test_network_view_of_agreements_and_parties(tab):
    page = tab.goto("/")
    page.wait_for_selector("#results[data-state=ready]")
    page.locator("#results [data-view=network]").click()
    page.wait_for_selector("#results .network.ready canvas")
    network = page.locator("#results .network")
    assert int(network.get_attribute("data-nodes")) >= 4 and int(network.get_attribute("data-edges")) >= 3
    page.wait_for_timeout(500)
    tab.shot("network")
    tab.check_clean()


def test_timeline_shows_date_precision(tab):
    page = tab.goto("/")
    page.wait_for_selector("#results[data-state=ready]")
    page.evaluate("""() => window.ekgYasqe.setValue(
        'PREFIX ekg: <https://w3id.org/explore-kg/ontology#>\\n' +
        'SELECT ?thing ?date WHERE { { ?thing ekg:plannedLaunchDate ?date } UNION { ?thing ekg:signingDate ?date }' +
        ' UNION { ?thing ekg:date ?date } UNION { ?thing ekg:startDate ?date } }')""")
    page.locator("#run").click()
    # chosen for a dated result; the starting query's timeline is on the page until the new answer replaces it
    page.wait_for_selector("#results[data-view=timeline] svg.timeline .item.precision-jfy")
    items = page.locator("svg.timeline .item")
    assert items.count() >= 3
    precisions = {c.split("precision-")[1] for c in
                  (items.nth(i).get_attribute("class") for i in range(items.count()))}
    assert "jfy" in precisions and "day" in precisions, precisions
    assert page.locator(".legend").text_content().count("JFY") == 1
    tab.shot("timeline")
    tab.check_clean()


def test_saved_query_form_and_answer(tab):
    page = tab.goto("/gallery")
    page.locator("a[href='/gallery/partners-of-mission']").click()
    page.wait_for_selector("form.params select[name=mission]")
    tab.shot("gallery-form")
    page.select_option("select[name=mission]", "mission:lupex")
    page.locator("form.params button[type=submit]").click()
    page.wait_for_selector(".results[data-state=ready]")
    assert "mission=mission%3Alupex" in page.url or "mission=mission:lupex" in page.url
    page.locator(".results [data-view=table]").click()
    assert page.locator(".results table.results tbody tr").count() >= 2
    assert page.locator(".results a[href='/id/agency/isro']").count() >= 1
    page.locator(".results [data-view=network]").click()
    page.wait_for_selector(".results .network.ready canvas")
    tab.shot("gallery-answer")
    tab.check_clean()


def test_follow_a_result_link_to_an_entity_page(tab):
    page = tab.goto("/gallery/partners-of-mission?mission=mission:mmx&run=1")
    page.wait_for_selector(".results[data-state=ready]")
    page.locator(".results [data-view=table]").click()
    page.locator(".results a[href='/id/agency/cnes']").first.click()
    page.wait_for_url("**/id/agency/cnes")
    assert "tre National d" in page.locator("h1").text_content()  # Centre National d'Études Spatiales
    assert page.locator("ol.sources li").count() >= 1
    assert page.locator("table.facts").count() >= 1
    tab.shot("entity")
    page.locator("ol.sources a").first.click()  # a source document's page
    page.wait_for_url(re.compile(r".*/source/[a-z0-9-]+$"))
    assert page.locator("h1").text_content()
    tab.shot("source")
    tab.check_clean()


def test_ontology_documentation_opens_at_a_term_anchor(tab):
    response = tab.page.goto(tab.base + "/ontology#leadAgency")
    assert response.status == 200
    term = tab.page.locator("section.term#leadAgency")
    term.wait_for()
    assert term.is_visible() and "ekg:leadAgency" in term.locator("h3").text_content()
    assert tab.page.evaluate("document.querySelector('#diagram img').naturalWidth") > 0  # the diagram loaded
    tab.check_clean()


def test_ontology_vocab_and_not_found_pages(tab):
    response = tab.page.goto(tab.base + "/ontology#Mission")
    page = tab.page
    assert response.status == 200, page.locator("main").text_content()
    page.wait_for_selector("section.term#Mission")
    tab.shot("ontology", full_page=False)
    page = tab.goto("/vocab/agreement-type/joint-statement")
    tab.shot("vocab")
    response = tab.page.goto(tab.base + "/id/mission/does-not-exist")
    assert response.status == 404
    assert page.locator("h1").text_content() == "Not found"
    tab.shot("not-found")
    tab.errors = [e for e in tab.errors if "404" not in e]
    tab.check_clean()


def test_construct_result_offers_rdf_downloads(tab):
    page = tab.goto("/")
    page.wait_for_selector("#results[data-state=ready]")
    page.evaluate("""() => window.ekgYasqe.setValue(
        'PREFIX ekg: <https://w3id.org/explore-kg/ontology#>\\n' +
        'CONSTRUCT { ?m ekg:leadAgency ?a } WHERE { ?m ekg:leadAgency ?a }')""")
    page.locator("#run").click()
    page.wait_for_selector("#results[data-view=network] .network.ready canvas")  # IRI-IRI triples: a network
    links = page.locator("#downloads [data-kind=graph] a")
    assert [links.nth(i).text_content() for i in range(links.count())] == ["Turtle", "JSON-LD", "N-Triples", "RDF/XML"]
    assert page.locator("#downloads [data-kind=bindings]").is_hidden()
    page.locator("#results [data-view=table]").click()
    assert page.locator("#results table.results th").all_text_contents() == ["?s", "?p", "?o"]
    assert page.locator("#results table.results tbody tr").count() >= 3
    tab.check_clean()


def test_docs_render_with_the_network_blocked(tab):
    """Issue 14: /docs was blank offline; Swagger UI now comes from the package (the tab refuses every
    request that leaves the server, and no CSP violation may be logged)."""
    page = tab.goto("/docs")
    page.wait_for_selector("#swagger-ui[data-state=ready]")
    page.wait_for_selector(".opblock-summary-path[data-path='/sparql']")
    assert page.locator(".opblock").count() >= 5
    tab.shot("docs", full_page=False)
    tab.check_clean()


def test_a_browser_opening_a_sparql_url_sees_the_editor_with_the_answer(tab):
    """Issue 14: a browser opening /sparql?query=... downloaded XML."""
    from urllib.parse import quote

    query = "PREFIX ekg: <https://w3id.org/explore-kg/ontology#>\nSELECT ?mission WHERE { ?mission a ekg:Mission }"
    page = tab.goto("/sparql?query=" + quote(query))
    page.wait_for_selector(".CodeMirror")
    page.wait_for_selector("#results[data-state=ready]")
    assert "?mission a ekg:Mission" in page.evaluate("() => window.ekgYasqe.getValue()")
    page.locator("#results [data-view=table]").click()
    assert page.locator("#results a[href='/id/mission/mmx']").count() >= 1
    assert page.locator("#downloads").is_visible()
    tab.shot("sparql-page")
    tab.check_clean()


def test_network_view_has_a_legend(tab):
    page = tab.goto("/")
    page.wait_for_selector("#results[data-state=ready]")
    page.locator("#results [data-view=network]").click()
    page.wait_for_selector("#results .network.ready canvas")
    legend = page.locator("#results .network-legend")
    assert legend.is_visible()
    text = legend.text_content()
    assert "agency" in text and "agreement" in text and "party" in text
    assert page.locator("#results .network-legend .swatch.kind-agency").count() == 1
    tab.check_clean()


def test_timeline_keeps_the_last_date_and_year_inside_the_plot(tab):
    """Issue 14: the timeline's last year was clipped."""
    page = tab.goto("/gallery/planned-launches?run=1")
    page.wait_for_selector(".results[data-view=timeline] svg.timeline .item")
    box = page.evaluate("""() => {
        const svg = document.querySelector('svg.timeline'), right = svg.getBoundingClientRect().right;
        const labels = [...svg.querySelectorAll('.date-label')].map(t => t.getBoundingClientRect().right);
        const last = [...svg.querySelectorAll('.item')].map(g => g.getBoundingClientRect().right);
        const years = [...svg.querySelectorAll('.tick-label')].map(t => +t.textContent);
        return {right, labels, last: Math.max(...last), years};
    }""")
    assert box["labels"] and max(box["labels"]) <= box["right"] - 2, box
    assert box["last"] <= box["right"] - 2
    latest = max(int(t) for t in page.locator("svg.timeline .date-label").all_text_contents()
                 for t in re.findall(r"\b(20\d\d)\b", t))
    assert max(box["years"]) >= latest, box  # the year after the last date is labelled too
    tab.check_clean()


PAGE_KINDS = ["/", "/gallery", "/gallery/partners-of-mission?mission=mission:mmx&run=1", "/id/agency/jaxa",
              "/id/mission/mmx", "/sources", "/source/lupex-mission-overview", "/ontology",
              "/vocab/agreement-type/joint-statement", "/queries", "/queries/partners-of-mission?mission=MMX",
              "/docs", "/sparql?query=SELECT%20*%20WHERE%20%7B%3Fs%20a%20%3Fo%7D%20LIMIT%2050",
              "/id/mission/does-not-exist"]


def test_no_page_scrolls_sideways_on_a_phone(browser, live_server):
    """Issue 14: every page scrolled sideways on a phone-sized viewport (375 px)."""
    context = browser.new_context(viewport={"width": 375, "height": 740}, device_scale_factor=1)
    try:
        wide = {}
        for path in PAGE_KINDS:
            page = context.new_page()
            page.goto(live_server + path)
            page.wait_for_load_state("networkidle")
            if path in ("/", "/gallery/partners-of-mission?mission=mission:mmx&run=1") or path.startswith("/sparql"):
                page.wait_for_selector("[data-state=ready]")
            width = page.evaluate("() => document.documentElement.scrollWidth")
            if width > 375:
                wide[path] = width
            if path in ("/", "/id/agency/jaxa"):
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=str(ARTIFACTS / f"web-phone-{path.strip('/').replace('/', '-') or 'home'}.png"),
                                full_page=True)
            page.close()
        assert not wide, f"pages wider than a 375 px screen: {wide}"
    finally:
        context.close()
