import Foundation
import GlassboxNN

/// Renders ``ReportData`` as one self-contained HTML page: inline CSS, inline SVG charts and
/// `data:` PNG images, no scripts, no fonts or anything else fetched (a Content-Security-Policy
/// meta tag forbids it, so a browser would refuse even an injected one). Fluid layout with a
/// viewport meta tag: the charts scale with the width, tables scroll sideways on a phone.
///
/// Sections (each only when its data is present), with these element ids: `summary` (data and
/// model), `ranking` (ScoresActivation bar chart, spread over seeds), `trajectory` (weights per
/// epoch), `methods` (global importance per method), `attributions` (SHAP-style summary),
/// `agreement` (Spearman / Kendall / top-k matrices), `images` (input, heatmaps per method,
/// insertion/deletion curves). Every user string is escaped (``HTMLText``).
///
/// Cost: linear in the data; a demo-sized report (30 features, 40 explained rows, 4 images with
/// two maps each) is about 150 kB.
public enum HTMLReport {
    /// The page for `data`.
    /// - Throws: ``GlassboxError/invalidArgument(_:)`` naming the first inconsistent value
    ///   (see ``ReportData/validate()``).
    public static func render(_ data: ReportData) throws -> String {
        do { try data.validate() } catch let problem as ReportDataProblem {
            throw GlassboxError.invalidArgument("report data, at \(problem.location): \(problem.problem)")
        }
        var sections: [(id: String, title: String, html: String)] = []
        sections.append(("summary", "Data and models", summary(data)))
        if let t = data.tabular {
            if let ranking = t.ranking { sections.append(("ranking", "Feature ranking", rankingSection(t, ranking))) }
            if let trajectory = t.trajectory { sections.append(("trajectory", "Scores during training", trajectorySection(t, trajectory))) }
            if !t.methods.isEmpty { sections.append(("methods", "Explainers compared", methodsSection(t))) }
            if let a = t.attributions { sections.append(("attributions", "Attributions per row", attributionsSection(t, a))) }
            if let a = t.agreement { sections.append(("agreement", "Agreement between methods", agreementSection(a))) }
        }
        if let image = data.image, !image.examples.isEmpty {
            sections.append(("images", "Image explanations", imagesSection(image)))
        }
        var html = """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
            <title>\(HTMLText.escape(data.title))</title>
            <style>\(stylesheet)</style>
            </head>
            <body>
            <header>
            <h1>\(HTMLText.escape(data.title))</h1>

            """
        var meta: [String] = []
        if let g = data.generator { meta.append("<code>\(HTMLText.escape(g))</code>") }
        if let c = data.createdAt { meta.append(HTMLText.escape(c)) }
        if let s = data.seconds { meta.append("ran in \(Format.seconds(s))") }
        if !meta.isEmpty { html += "<p class=\"meta\">\(meta.joined(separator: " · "))</p>\n" }
        for note in data.notes { html += "<p class=\"note\">\(HTMLText.escape(note))</p>\n" }
        html += "<nav>" + sections.map { "<a href=\"#\($0.id)\">\(HTMLText.escape($0.title))</a>" }.joined() + "</nav>\n</header>\n<main>\n"
        for s in sections {
            html += "<section id=\"\(s.id)\">\n<h2>\(HTMLText.escape(s.title))</h2>\n\(s.html)\n</section>\n"
        }
        html += "</main>\n<footer>Made by Glassbox. This page is self-contained: no scripts, nothing loaded from elsewhere.</footer>\n</body>\n</html>\n"
        return html
    }

    // MARK: sections

    static func summary(_ data: ReportData) -> String {
        var cards: [String] = []
        if let t = data.tabular {
            cards.append(dataCard(t.data, heading: "Tabular data"))
            cards.append(modelCard(t.model, heading: "Tabular model"))
        }
        if let i = data.image {
            cards.append(dataCard(i.data, heading: "Image data"))
            cards.append(modelCard(i.model, heading: "Image model"))
        }
        if cards.isEmpty { return "<p>No results in this file.</p>" }
        return "<div class=\"cards\">" + cards.joined() + "</div>"
    }

    static func dataCard(_ d: DataSummary, heading: String) -> String {
        var rows: [(String, String)] = [("dataset", HTMLText.escape(d.name))]
        if let s = d.source { rows.append(("source", HTMLText.escape(s))) }
        rows.append(("rows", "\(d.rows)"))
        rows.append(("inputs", HTMLText.escape(d.shape)))
        var classes = d.classNames.map(HTMLText.escape)
        if let counts = d.classCounts, counts.count == classes.count {
            classes = zip(classes, counts).map { "\($0) (\($1))" }
        }
        rows.append(("classes", classes.joined(separator: ", ")))
        if let tr = d.trainRows, let te = d.testRows {
            rows.append(("split", "\(tr) train / \(d.validationRows.map(String.init) ?? "0") validation / \(te) test"))
        }
        return card(heading, rows)
    }

    static func modelCard(_ m: ModelSummary, heading: String) -> String {
        var rows: [(String, String)] = [("architecture", HTMLText.escape(m.architecture))]
        if let p = m.parameters { rows.append(("parameters", "\(p)")) }
        if let t = m.training { rows.append(("training", HTMLText.escape(t))) }
        if !m.testAccuracy.isEmpty {
            let values = m.testAccuracy.map { String(format: "%.1f %%", 100 * $0) }.joined(separator: ", ")
            let mean = m.testAccuracy.reduce(0, +) / Double(m.testAccuracy.count)
            rows.append(("test accuracy", m.testAccuracy.count > 1
                ? String(format: "<strong>%.1f %%</strong> mean", 100 * mean) + " (\(values))" : "<strong>\(values)</strong>"))
        }
        if !m.seeds.isEmpty { rows.append(("seeds", m.seeds.map(String.init).joined(separator: ", "))) }
        if let e = m.epochs, !e.isEmpty { rows.append(("epochs run", e.map(String.init).joined(separator: ", "))) }
        return card(heading, rows)
    }

    /// `rows` values are HTML already escaped by the caller.
    static func card(_ heading: String, _ rows: [(String, String)]) -> String {
        "<div class=\"card\"><h3>\(HTMLText.escape(heading))</h3><dl>"
            + rows.map { "<dt>\(HTMLText.escape($0.0))</dt><dd>\($0.1)</dd>" }.joined() + "</dl></div>"
    }

    static func figure(_ svg: String, caption: String) -> String {
        "<figure>\(svg)<figcaption>\(caption)</figcaption></figure>"
    }

    static func rankingSection(_ t: TabularReport, _ r: FeatureRanking) -> String {
        let mean = r.mean, sd = r.standardDeviation
        let order = mean.indices.sorted { mean[$0] > mean[$1] || (mean[$0] == mean[$1] && $0 < $1) }
        let bars = order.map { j in
            Chart.Bar(label: t.featureNames[j], value: mean[j], error: r.values.count > 1 ? sd[j] : nil,
                      points: r.values.count > 1 ? r.values.map { $0[j] } : [])
        }
        let uniform = 1 / Double(t.featureNames.count)
        var caption = "\(HTMLText.escape(r.method)): mean over \(r.seeds.count) seed\(r.seeds.count == 1 ? "" : "s")"
        if r.values.count > 1 { caption += ", whiskers ± one standard deviation, dots the individual seeds" }
        caption += ". A feature with no preference would get \(Format.short(uniform)) (1/\(t.featureNames.count))."
        if let rho = r.meanPairwiseSpearman {
            caption += " Rankings of different seeds agree with mean Spearman ρ = \(Format.number(rho, digits: 2))."
        }
        return figure(Chart.bars(bars, axisLabel: "weight", label: "Feature ranking by \(r.method)",
                                 reference: Chart.Marker(x: uniform, label: "uniform 1/\(t.featureNames.count)")), caption: caption)
    }

    static func trajectorySection(_ t: TabularReport, _ tr: ScoreTrajectory) -> String {
        guard let last = tr.values.last else { return "<p>No epochs recorded.</p>" }
        let top = Array(last.indices.sorted { last[$0] > last[$1] || (last[$0] == last[$1] && $0 < $1) }.prefix(8))
        var series: [Chart.Series] = []
        for j in last.indices where !top.contains(j) {
            series.append(Chart.Series(name: t.featureNames[j], points: tr.values.enumerated().map { (Double($0.offset + 1), $0.element[j]) },
                                       color: RGB(0xcc, 0xcc, 0xcc), width: 1))
        }
        for (k, j) in top.enumerated() {
            series.append(Chart.Series(name: t.featureNames[j], points: tr.values.enumerated().map { (Double($0.offset + 1), $0.element[j]) },
                                       color: ColorScale.categorical[k % ColorScale.categorical.count], width: 2.2))
        }
        var markers: [Chart.Marker] = []
        if let b = tr.bestEpoch { markers.append(Chart.Marker(x: Double(b), label: "best epoch \(b)")) }
        if let s = tr.stableEpoch, s != tr.bestEpoch { markers.append(Chart.Marker(x: Double(s), label: "stable from \(s)")) }
        let svg = Chart.lines(series, xLabel: "epoch", yLabel: "weight", label: "ScoresActivation weights per epoch",
                              xDomain: 1...Double(max(2, tr.values.count)), markers: markers)
        let legend = legendList(top.enumerated().map { (t.featureNames[$0.element], ColorScale.categorical[$0.offset % 10], false) }
                                + (last.count > top.count ? [("other features", RGB(0xcc, 0xcc, 0xcc), false)] : []))
        var caption = "Weights w = softmax(s) after each epoch of the run with seed \(tr.seed); the \(top.count) largest at the end in colour."
        if let s = tr.stableEpoch { caption += " The ranking no longer changed after epoch \(s)." }
        return figure(svg, caption: caption) + legend
    }

    static func methodsSection(_ t: TabularReport) -> String {
        var html = "<p>Each method's global importance, features ranked by it (1 = most important).</p>"
        html += "<div class=\"scroll\"><table><thead><tr><th>method</th><th>time</th><th>top features</th></tr></thead><tbody>"
        for m in t.methods {
            let order = m.importance.indices.sorted { m.importance[$0] > m.importance[$1] || (m.importance[$0] == m.importance[$1] && $0 < $1) }
            let top = order.prefix(5).map { HTMLText.escape(t.featureNames[$0]) }.joined(separator: ", ")
            let note = m.note.map { "<br><small>\(HTMLText.escape($0))</small>" } ?? ""
            html += "<tr><td><strong>\(HTMLText.escape(m.method))</strong>\(note)</td><td class=\"num\">\(Format.seconds(m.seconds))</td><td>\(top)</td></tr>"
        }
        html += "</tbody></table></div><div class=\"grid2\">"
        for (k, m) in t.methods.enumerated() {
            let order = m.importance.indices.sorted { m.importance[$0] > m.importance[$1] || (m.importance[$0] == m.importance[$1] && $0 < $1) }
            let bars = order.prefix(10).map { Chart.Bar(label: t.featureNames[$0], value: m.importance[$0], error: m.spread?[$0]) }
            html += figure(Chart.bars(Array(bars), axisLabel: "importance", label: "Top features by \(m.method)",
                                      color: ColorScale.categorical[k % ColorScale.categorical.count], width: 480),
                           caption: "\(HTMLText.escape(m.method)): top \(bars.count)\(m.spread == nil ? "" : ", ± spread")")
        }
        return html + "</div>"
    }

    static func attributionsSection(_ t: TabularReport, _ a: RowAttributions) -> String {
        let svg = Chart.strip(featureNames: t.featureNames, values: a.values, featureValues: a.featureValues,
                              axisLabel: "attribution φ to class \(a.className)", label: "Attributions by \(a.method)")
        let shown = min(15, t.featureNames.count)
        return figure(svg, caption: "\(HTMLText.escape(a.method)) attributions of \(a.values.count) rows to class "
                      + "<q>\(HTMLText.escape(a.className))</q>, one dot per row; the \(shown) features with the largest mean |φ|."
                      + (a.featureValues == nil ? "" : " Colour: the row's value of the feature, from low (blue) to high (red)."))
    }

    static func agreementSection(_ a: AgreementMatrix) -> String {
        let parts = [
            Chart.matrix(a.spearman, names: a.methods, title: "Spearman ρ"),
            Chart.matrix(a.kendall, names: a.methods, title: "Kendall τ-b"),
            Chart.matrix(a.topK, names: a.methods, title: "Top-\(a.k) overlap", domain: 0...1),
        ]
        return "<p>How similarly the methods rank the features: rank correlations over all features (1 = same order, "
            + "0 = unrelated, −1 = reversed) and the share of the top \(a.k) they have in common.</p><div class=\"grid3\">"
            + parts.map { "<figure>\($0)</figure>" }.joined() + "</div>"
    }

    static func imagesSection(_ r: ImageReport) -> String {
        var html = ""
        if let e = r.explainer { html += "<p>\(HTMLText.escape(e))</p>" }
        html += "<p class=\"scale\">heatmap: <span class=\"bar\"></span> low → high score</p>"
        for (index, example) in r.examples.enumerated() {
            html += "<article class=\"example\"><h3>\(HTMLText.escape(example.name)): <q>\(HTMLText.escape(example.trueClass))</q>, "
                + "predicted <q>\(HTMLText.escape(example.predictedClass))</q> (\(String(format: "%.1f %%", 100 * example.confidence)))</h3>"
            var tiles = "<div class=\"tiles\">"
            tiles += tile(PNG.dataURI(ImageOverlay.input(example)), caption: "input", alt: "input image \(example.name)")
            for e in example.explanations {
                tiles += tile(PNG.dataURI(ImageOverlay.overlay(example, map: e.map)), caption: HTMLText.escape(e.method),
                              alt: "heatmap of \(e.method) on \(example.name)")
            }
            tiles += "</div>"
            let withCurves = example.explanations.enumerated().filter { $0.element.insertion != nil || $0.element.deletion != nil }
            if withCurves.isEmpty {
                html += tiles
            } else {
                var series: [Chart.Series] = []
                var legend: [(String, RGB, Bool)] = []
                var rows = ""
                for (k, e) in withCurves {
                    let color = ColorScale.categorical[k % ColorScale.categorical.count]
                    if let c = e.insertion {
                        series.append(Chart.Series(name: "\(e.method) insertion", points: zip(c.fractions, c.probabilities).map { ($0, $1) }, color: color))
                        legend.append(("\(e.method) insertion", color, false))
                    }
                    if let c = e.deletion {
                        series.append(Chart.Series(name: "\(e.method) deletion", points: zip(c.fractions, c.probabilities).map { ($0, $1) }, color: color, dashed: true))
                        legend.append(("\(e.method) deletion", color, true))
                    }
                    rows += "<tr><td>\(HTMLText.escape(e.method))</td><td class=\"num\">\(Format.number(e.insertion?.auc))</td>"
                        + "<td class=\"num\">\(Format.number(e.deletion?.auc))</td><td class=\"num\">\(e.evaluations.map(String.init) ?? "–")</td>"
                        + "<td class=\"num\">\(Format.seconds(e.seconds))</td></tr>"
                }
                // Images, legend and AUC table on the left; the curves on the right (stacked on a phone).
                html += "<div class=\"grid2\"><div>" + tiles + legendList(legend)
                    + "<div class=\"scroll\"><table><thead><tr><th>method</th><th>insertion AUC ↑</th>"
                    + "<th>deletion AUC ↓</th><th>evaluations</th><th>time</th></tr></thead><tbody>\(rows)</tbody></table></div></div>"
                html += figure(
                    Chart.lines(series, xLabel: "fraction of pixels inserted / deleted", yLabel: "p(predicted class)",
                                label: "Insertion and deletion curves of image \(index + 1)", xDomain: 0...1, yDomain: 0...1,
                                height: 300),
                    caption: "Insertion (solid; higher is better) and deletion (dashed; lower is better), pixels in order of the heatmap.")
                html += "</div>"
            }
            html += "</article>"
        }
        return html
    }

    static func tile(_ uri: String, caption: String, alt: String) -> String {
        "<figure class=\"tile\"><img src=\"\(uri)\" alt=\"\(HTMLText.escape(alt))\"><figcaption>\(caption)</figcaption></figure>"
    }

    static func legendList(_ items: [(String, RGB, Bool)]) -> String {
        "<ul class=\"legend\">" + items.map { name, color, dashed in
            "<li><span class=\"swatch\(dashed ? " dashed" : "")\" style=\"--c:\(color.hex)\"></span>\(HTMLText.escape(name))</li>"
        }.joined() + "</ul>"
    }

    // MARK: style

    static let stylesheet = """
        :root{color-scheme:light;--ink:#1f2328;--muted:#57606a;--line:#d8dee4;--bg:#fff;--panel:#f6f8fa;--accent:#2c6fbb}
        *{box-sizing:border-box}
        html{-webkit-text-size-adjust:100%}
        body{margin:0;background:var(--bg);color:var(--ink);font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
        header,main,footer{max-width:1120px;margin:0 auto;padding:0 16px}
        header{padding-top:20px}
        h1{font-size:1.7rem;line-height:1.2;margin:.2em 0 .3em}
        h2{font-size:1.3rem;margin:0 0 .6em;padding-top:.4em;border-top:2px solid var(--line)}
        h3{font-size:1.02rem;margin:.2em 0 .5em}
        .meta,.note,figcaption,small{color:var(--muted)}
        .meta{margin:.2em 0;overflow-wrap:anywhere}
        code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.92em;background:var(--panel);padding:.1em .35em;border-radius:4px}
        nav{display:flex;flex-wrap:wrap;gap:6px;margin:12px 0 8px}
        nav a{color:var(--accent);text-decoration:none;border:1px solid var(--line);border-radius:999px;padding:2px 12px;font-size:.9rem;background:var(--panel)}
        section{margin:22px 0 30px}
        .cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:12px}
        .card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;background:var(--panel);min-width:0}
        dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0;font-size:.93rem}
        dt{color:var(--muted)}
        dd{margin:0;overflow-wrap:break-word;min-width:0}
        figure{margin:0 0 14px;min-width:0;overflow-x:auto}
        figcaption{font-size:.88rem;margin-top:4px}
        svg.chart{display:block;width:100%;height:auto;max-width:720px;min-width:400px;font-family:inherit}
        .grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,420px),1fr));gap:14px 22px;align-items:start}
        .grid3{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,320px),1fr));gap:10px 18px;align-items:start}
        .scroll{overflow-x:auto;max-width:100%}
        table{border-collapse:collapse;font-size:.92rem;margin:6px 0 14px}
        th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:left;vertical-align:top}
        th{background:var(--panel);font-weight:600}
        td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        .legend{list-style:none;padding:0;margin:4px 0 12px;display:flex;flex-wrap:wrap;gap:4px 14px;font-size:.88rem}
        .legend li{display:flex;align-items:center;gap:6px;overflow-wrap:anywhere}
        .swatch{display:inline-block;width:22px;height:0;border-top:3px solid var(--c);flex:none}
        .swatch.dashed{border-top-style:dashed}
        .example{border:1px solid var(--line);border-radius:8px;padding:10px 14px;margin:0 0 16px}
        .tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(100px,1fr));gap:10px;max-width:560px;margin-bottom:6px}
        .tile{margin:0;text-align:center}
        .tile img{width:100%;height:auto;image-rendering:pixelated;image-rendering:crisp-edges;border:1px solid var(--line);border-radius:4px;background:#000}
        .tile figcaption{overflow-wrap:anywhere}
        .scale .bar{display:inline-block;width:120px;height:12px;vertical-align:middle;border-radius:2px;background:linear-gradient(90deg,#3a3a3a,#800010,#f05000,#ffe840)}
        q{quotes:"“" "”"}
        footer{color:var(--muted);font-size:.85rem;padding:18px 16px 28px;border-top:1px solid var(--line)}
        @media (max-width:520px){body{font-size:15px}h1{font-size:1.4rem}header,main,footer{padding:0 10px}.card{padding:8px 10px}}
        """
}
