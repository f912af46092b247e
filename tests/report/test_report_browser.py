"""The report in a real browser: headless Chromium (Debian's ``chromium``) renders it, its DOM
has every section (the verified table only when target labels were given), it makes no network
request, and the screenshot is not blank.

Network: Chromium runs with every host name unresolvable (``--host-resolver-rules``), so nothing
leaves the machine, and writes its net log (``--log-net-log``); every URL request made on behalf
of the page (network isolation key of the ``file://`` page, or an initiator that is an origin)
is listed. The report must make none; a control page with one remote image must make one (so the
check can fail). Chromium's own background requests (update checks, network time; initiator
"not an origin", Debian's wrapper enables them) are not the page's and are not counted.
Skipped where ``chromium`` is absent.
"""

import json
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest

from transferability.report import SECTIONS, VERIFIED_SECTION, page_sections

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="chromium not installed (apt-get install chromium)")]

WIDTH, HEIGHT = 1200, 2400


def _chromium(url, *args, timeout=120):
    cmd = [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--no-first-run",
           "--host-resolver-rules=MAP * ~NOTFOUND", f"--window-size={WIDTH},{HEIGHT}"]
    r = subprocess.run([*cmd, *args, url], capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-2000:]
    return r


def page_requests(netlog_path) -> list:
    """URLs that the net log shows requested on behalf of a ``file://`` page."""
    text = netlog_path.read_text()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # a log cut short lacks its closing brackets
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    urls = []
    for e in log["events"]:
        if names.get(e.get("type")) != "URL_REQUEST_START_JOB" or "url" not in e.get("params", {}):
            continue
        p = e["params"]
        if str(p.get("network_isolation_key", "")).startswith("file://") or p.get("initiator") != "not an origin":
            urls.append(p["url"])
    return urls


class _Dom(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.svg_in = [], {}
        self._section = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section":
            self._section = a.get("id")
        if "id" in a:
            self.ids.append(a["id"])
        if tag == "svg" and self._section:
            self.svg_in[self._section] = self.svg_in.get(self._section, 0) + 1


@pytest.fixture(scope="module")
def rendered(cli_report, tmp_path_factory):
    """The report's DOM after Chromium loaded it, its screenshot, and the page's requests."""
    path, _ = cli_report
    d = tmp_path_factory.mktemp("shots")
    shot, netlog = d / "report.png", d / "netlog.json"
    dom = _chromium(path.as_uri(), f"--log-net-log={netlog}", "--dump-dom").stdout
    _chromium(path.as_uri(), f"--screenshot={shot}")
    return dom, shot, page_requests(netlog)


def test_dom_has_every_section_with_its_figure(rendered):
    dom, _, _ = rendered
    p = _Dom()
    p.feed(dom)
    assert [i for i in p.ids if i in SECTIONS] == list(SECTIONS)
    assert p.svg_in == {"ranking": 1, "divergences": 1, "embedding": 1}
    assert 'data-flag="out_of_distribution"' in dom
    assert VERIFIED_SECTION not in p.ids and "verdict-verified" not in p.ids  # no labels, no verified table


@pytest.fixture(scope="module")
def rendered_labelled(cli_report_labelled, tmp_path_factory):
    """The report made with ``--target-labels``: its DOM after Chromium loaded it, and its requests."""
    path, _ = cli_report_labelled
    netlog = tmp_path_factory.mktemp("shots_labelled") / "netlog.json"
    dom = _chromium(path.as_uri(), f"--log-net-log={netlog}", "--dump-dom").stdout
    return dom, page_requests(netlog)


def test_dom_with_target_labels_has_the_verified_section_after_the_verdict(rendered_labelled):
    dom, requests = rendered_labelled
    p = _Dom()
    p.feed(dom)
    assert [i for i in p.ids if i in page_sections(True)] == list(page_sections(True))
    assert p.svg_in == {"ranking": 1, "divergences": 1, "embedding": 1, "verified": 1}
    assert {"verdict-verified", "verified-pick", "verified-table", "verified-kshot"} <= set(p.ids)
    assert requests == []


def test_no_network_request(rendered):
    _, _, requests = rendered
    assert requests == []


def test_the_network_check_sees_a_remote_image(tmp_path):
    page, netlog = tmp_path / "control.html", tmp_path / "netlog.json"
    page.write_text('<!DOCTYPE html><html><body><img src="http://example.com/x.png"></body></html>')
    _chromium(page.as_uri(), f"--log-net-log={netlog}", "--dump-dom")
    assert page_requests(netlog) == ["http://example.com/x.png"]


def test_screenshot_is_not_blank(rendered):
    import matplotlib.image

    _, shot, _ = rendered
    img = matplotlib.image.imread(str(shot))  # PNG -> floats in [0, 1]
    assert img.shape[:2] == (HEIGHT, WIDTH)
    rgb = img[..., :3]
    ink = np.any(rgb < 0.9, axis=-1)  # pixels that are not (near) white
    assert rgb.std() > 0.05 and ink.mean() > 0.03
    # figures are drawn, not only text: some pixels are coloured (green/red/blue marks)
    spread = rgb.max(axis=-1) - rgb.min(axis=-1)
    assert (spread > 0.3).mean() > 0.001
    # content runs down the page, not only a header
    rows_with_ink = ink.any(axis=1)
    assert rows_with_ink[: HEIGHT // 4].any() and rows_with_ink[HEIGHT // 2:].any()
