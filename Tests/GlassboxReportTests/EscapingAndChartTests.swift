import Foundation
import Testing
import GlassboxReport

@Suite struct EscapingTests {
    @Test func escapesEveryMarkupCharacter() {
        #expect(HTMLText.escape("<script>alert(\"x\" + 'y') & z</script>")
                == "&lt;script&gt;alert(&quot;x&quot; + &#39;y&#39;) &amp; z&lt;/script&gt;")
        // Already-escaped text is escaped again (it is data, not markup).
        #expect(HTMLText.escape("&amp;") == "&amp;amp;")
        // Control characters XML forbids become U+FFFD; tab/newline stay.
        #expect(HTMLText.escape("a\u{07}b\u{0}c\td\ne") == "a\u{FFFD}b\u{FFFD}c\td\ne")
        #expect(HTMLText.escape("ünïcødé → ✓") == "ünïcødé → ✓")
    }

    @Test func truncationNeverSplitsAReference() {
        let cut = HTMLText.escape("&&&&&&&&&&", limit: 4)
        #expect(cut == "&amp;&amp;&amp;…")
        #expect(HTMLText.escape("short", limit: 10) == "short")
    }

    @Test func hostileNamesNeverBecomeMarkup() throws {
        let html = try HTMLReport.render(sampleReport())
        // The only tags are the renderer's: no script, no injected <b>, no broken-out attribute.
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains("<b>"))
        #expect(!html.contains("\"quoted\""))
        #expect(!html.contains("\u{07}"))
        // The names are there, escaped.
        #expect(html.contains("&lt;script&gt;console.error(&#39;xss&#39;)&lt;/script&gt;"))
        #expect(html.contains("a &quot;quoted&quot; name"))
        #expect(html.contains("it&#39;s &amp; more"))
        #expect(html.contains("<title>Report &lt;title&gt; &amp; &quot;quotes&quot;</title>"))
        #expect(html.contains("mal&#39;ignant"))
        // Nothing is fetched from anywhere and nothing runs.
        #expect(!html.contains("http://") && !html.contains("https://") && !html.contains("src=\"//"))
        #expect(!html.contains("@import") && !html.contains("url("))
        #expect(html.contains("Content-Security-Policy"))
        #expect(html.range(of: #"\son[a-z]+\s*="#, options: .regularExpression) == nil)
    }

    @Test func everySVGOfThePageIsWellFormedXML() throws {
        let html = try HTMLReport.render(sampleReport())
        let svgs = svgElements(in: html)
        // ranking, trajectory, 3 method bars, strip, 3 matrices, 2 curve charts.
        #expect(svgs.count == 11)
        for svg in svgs {
            let parsed = parseXML(svg)
            #expect(parsed.error == nil, "\(parsed.error ?? ""): \(svg.prefix(300))")
            #expect(parsed.elements.first == "svg")
            // No markup smuggled in by names: only SVG's own element names.
            let allowed: Set<String> = ["svg", "rect", "line", "circle", "polyline", "text", "title"]
            #expect(Set(parsed.elements).isSubset(of: allowed), "\(Set(parsed.elements).subtracting(allowed))")
        }
    }

    @Test func pageHasEverySectionInOrder() throws {
        let html = try HTMLReport.render(sampleReport())
        var last = html.startIndex
        for id in ["summary", "ranking", "trajectory", "methods", "attributions", "agreement", "images"] {
            guard let r = html.range(of: "<section id=\"\(id)\">") else { Issue.record("no section \(id)"); continue }
            #expect(r.lowerBound > last, "section \(id) out of order")
            last = r.lowerBound
            #expect(html.contains("href=\"#\(id)\""))
        }
        #expect(html.hasPrefix("<!doctype html>"))
        #expect(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"))
        // 2 images × (input + 2 overlays), embedded as PNG data URIs.
        #expect(html.components(separatedBy: "src=\"data:image/png;base64,").count - 1 == 6)
    }

    @Test func sectionsWithoutDataAreLeftOut() throws {
        var data = sampleReport()
        data.image = nil
        data.tabular?.trajectory = nil
        data.tabular?.agreement = nil
        let html = try HTMLReport.render(data)
        #expect(!html.contains("id=\"images\"") && !html.contains("id=\"trajectory\"") && !html.contains("id=\"agreement\""))
        #expect(html.contains("id=\"ranking\""))
        let empty = try HTMLReport.render(ReportData(title: "nothing"))
        #expect(empty.contains("No results in this file."))
    }
}

@Suite struct ChartTests {
    @Test func barChartDrawsOneBarPerEntryWithWhiskers() {
        let bars = hostileNames.enumerated().map { Chart.Bar(label: $1, value: Double($0 + 1), error: 0.5, points: [Double($0), Double($0 + 2)]) }
        let svg = Chart.bars(bars, axisLabel: "weight <w>", label: "bars & \"things\"", reference: Chart.Marker(x: 3, label: "ref <r>"))
        let parsed = parseXML(svg)
        #expect(parsed.error == nil, "\(parsed.error ?? "")")
        #expect(parsed.elements.filter { $0 == "rect" }.count == bars.count)
        #expect(parsed.elements.filter { $0 == "circle" }.count == 2 * bars.count)
        // Labels come back as the original text once parsed (escaping is lossless); long ones are cut.
        let text = parsed.texts.joined()
        #expect(text.contains("<script>console.error('xss')</script>"))
        #expect(text.contains("ref <r>") && text.contains("weight <w>"))
    }

    @Test func barLengthsAreProportionalToValues() throws {
        let svg = Chart.bars([Chart.Bar(label: "a", value: 1), Chart.Bar(label: "b", value: 0.5)], axisLabel: "", label: "")
        let widths = svg.components(separatedBy: "<rect ").dropFirst().compactMap { part -> Double? in
            guard let r = part.range(of: "width=\""), let end = part[r.upperBound...].firstIndex(of: "\"") else { return nil }
            return Double(part[r.upperBound..<end])
        }
        #expect(widths.count == 2)
        #expect(abs(widths[0] / widths[1] - 2) < 0.02)
    }

    @Test func lineChartSkipsNonFiniteAndDrawsMarkers() {
        let series = [Chart.Series(name: "s <1>", points: [(0, 0), (1, .nan), (2, 1), (3, 0.5)], color: ColorScale.categorical[0]),
                      Chart.Series(name: "single", points: [(1, 0.5)], color: ColorScale.categorical[1], dashed: true)]
        let svg = Chart.lines(series, xLabel: "x & y", yLabel: "p", label: "lines", markers: [Chart.Marker(x: 2, label: "best <2>")])
        let parsed = parseXML(svg)
        #expect(parsed.error == nil, "\(parsed.error ?? "")")
        #expect(parsed.elements.filter { $0 == "polyline" }.count == 1)
        #expect(parsed.elements.filter { $0 == "circle" }.count == 1)
        #expect(svg.contains("stroke-dasharray=\"4 3\""))
        #expect(!svg.contains("nan") && !svg.contains("inf"))
        // Empty input still gives a valid chart.
        #expect(parseXML(Chart.lines([], xLabel: "", yLabel: "", label: "")).error == nil)
    }

    @Test func stripPlotHasOneDotPerRowAndFeatureShown() {
        let d = 20, n = 30
        let names = (0..<d).map { "f<\($0)>" }
        let values = (0..<n).map { r in (0..<d).map { j in Double(j) * sin(Double(r)) } }
        let svg = Chart.strip(featureNames: names, values: values, featureValues: values, maxFeatures: 15, axisLabel: "φ", label: "strip")
        let parsed = parseXML(svg)
        #expect(parsed.error == nil, "\(parsed.error ?? "")")
        #expect(parsed.elements.filter { $0 == "circle" }.count == 15 * n)
        // The most important feature (largest mean |φ|) is f<19>, listed first; f<0>…f<4> are left out.
        let text = parsed.texts.filter { $0.hasPrefix("f<") }
        #expect(text.count == 15)
        #expect(text.first == "f<19>")
        #expect(!text.contains("f<4>") && text.contains("f<5>"))
    }

    @Test func stripPlotColoursFollowFeatureValueRanks() {
        let colors = Chart.featureValueColors([3, 1, 2, 2])
        #expect(colors[1] == ColorScale.lowHigh(0))
        #expect(colors[0] == ColorScale.lowHigh(1))
        #expect(colors[2] == colors[3] && colors[2] == ColorScale.lowHigh(0.5))
    }

    @Test func matrixShowsValuesAndDashesForUndefined() {
        let svg = Chart.matrix([[1, nil], [-0.5, 1]], names: ["a<", "b&"], title: "ρ")
        let parsed = parseXML(svg)
        #expect(parsed.error == nil, "\(parsed.error ?? "")")
        #expect(parsed.elements.filter { $0 == "rect" }.count == 4)
        let text = parsed.texts
        #expect(text.contains("1.00") && text.contains("-0.50") && text.contains("–"))
        // −0.5 on the blue side, 1 at full red.
        #expect(svg.contains(ColorScale.diverging(1).hex) && svg.contains(ColorScale.diverging(-0.5).hex))
    }

    @Test func colourScalesHitTheirEnds() {
        #expect(ColorScale.diverging(0) == RGB(0xf4, 0xf4, 0xf4))
        #expect(ColorScale.diverging(1) == RGB(0xc8, 0x3a, 0x32))
        #expect(ColorScale.diverging(-1) == RGB(0x2c, 0x6f, 0xbb))
        #expect(ColorScale.diverging(.nan) == RGB(0xf4, 0xf4, 0xf4))
        #expect(RGB(0, 0x7f, 0xff).hex == "#007fff")
        #expect(RGB.mix(RGB(0, 0, 0), RGB(200, 100, 50), 0.5) == RGB(100, 50, 25))
    }

    @Test func overlayNormalisesAndBlends() {
        #expect(ImageOverlay.normalized([2, 4, -1, 3]) == [0.5, 1, 0, 0.75])
        #expect(ImageOverlay.normalized([1, 1]) == [0, 0])
        let example = ImageExample(name: "x", trueClass: "a", predictedClass: "a", confidence: 1, height: 1, width: 2,
                                   pixels: [0, 1], explanations: [])
        let input = ImageOverlay.input(example)
        #expect(input[0, 0] == RGB(0, 0, 0) && input[1, 0] == RGB(255, 255, 255))
        let overlay = ImageOverlay.overlay(example, map: [0, 1])
        // Score 0: the dimmed image; score 1: 85 % heat colour over it.
        #expect(overlay[0, 0] == RGB(0, 0, 0))
        #expect(overlay[1, 0] == RGB.mix(RGB(178, 178, 178), ColorScale.heat(1), 0.85))
    }
}
