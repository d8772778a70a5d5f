import Foundation
import Synchronization
import Testing
import GlassboxReport

/// Renders a report in a real headless Chromium (Debian's `chromium` package) and checks what a
/// person would see: a screenshot that is not blank at laptop and phone sizes, no console
/// messages (a script error, a blocked load or a Content-Security-Policy violation would log
/// one), and a DOM with every section and the hostile names as text.
///
/// Chromium is required. When none is found the tests run `scripts/install-chromium` once (which
/// installs Debian's package with apt-get), so `swift test -c release` sets up a fresh machine;
/// if that fails they fail with the installer's message — they never skip. Set
/// `GLASSBOX_CHROMIUM` to use another binary.
@Suite(.serialized) struct BrowserRenderingTests {
    static let installHint = "install it with `scripts/install-chromium` or `apt-get install -y chromium` (Debian/Ubuntu), or set GLASSBOX_CHROMIUM to a Chromium/Chrome binary"

    /// The browser, installing it with `scripts/install-chromium` when none is found (tried once
    /// per test process; the suite is serialized, so only one test installs).
    static func chromium() -> String? {
        if let found = findChromium() { return found }
        guard !installAttempted.withLock({ let tried = $0; $0 = true; return tried }) else { return nil }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("scripts/install-chromium")
        let process = Process()
        process.executableURL = script
        do {
            try process.run()
            process.waitUntilExit()
        } catch {
            return nil
        }
        return findChromium()
    }

    private static let installAttempted = Mutex(false)

    static func findChromium() -> String? {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["GLASSBOX_CHROMIUM"], FileManager.default.isExecutableFile(atPath: path) { return path }
        let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map(String.init) + ["/usr/bin", "/snap/bin"]
        for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
            for directory in directories where FileManager.default.isExecutableFile(atPath: directory + "/" + name) {
                return directory + "/" + name
            }
        }
        return nil
    }

    struct Run { var status: Int32; var stdout: String; var stderr: String }

    /// Runs Chromium headless on `page` with `arguments`, killed after `timeout` seconds.
    static func runChromium(_ binary: String, page: URL, arguments: [String], timeout: Double = 120) throws -> Run {
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("glassbox-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                             "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0"] + arguments + [page.absoluteString]
        let out = FileManager.default.temporaryDirectory.appendingPathComponent("glassbox-chromium-\(UUID().uuidString).out")
        let err = FileManager.default.temporaryDirectory.appendingPathComponent("glassbox-chromium-\(UUID().uuidString).err")
        FileManager.default.createFile(atPath: out.path, contents: nil)
        FileManager.default.createFile(atPath: err.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: out); try? FileManager.default.removeItem(at: err) }
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            Issue.record("chromium did not finish within \(Int(timeout)) s")
        }
        return Run(status: process.terminationStatus,
                   stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                   stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// Writes the sample report into a fresh directory.
    static func writePage() throws -> (directory: URL, page: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("glassbox-browser-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let page = directory.appendingPathComponent("report.html")
        try ReportFile.writeHTML(sampleReport(), to: page)
        return (directory, page)
    }

    /// Console lines Chromium logged for the page (`…:CONSOLE(…)] "message", source: …`).
    static func consoleMessages(_ stderr: String) -> [String] {
        stderr.split(separator: "\n").map(String.init).filter { $0.contains(":CONSOLE") || $0.contains("Refused to") }
    }

    @Test(arguments: [(width: 1280, height: 2400, name: "laptop"), (width: 390, height: 3200, name: "phone")])
    func screenshotIsNotBlank(_ size: (width: Int, height: Int, name: String)) throws {
        guard let binary = Self.chromium() else {
            Issue.record("Chromium is required to render the report in a browser but was not found: \(Self.installHint)")
            return
        }
        let (directory, page) = try Self.writePage()
        defer { try? FileManager.default.removeItem(at: directory) }
        let shot = directory.appendingPathComponent("\(size.name).png")
        let run = try Self.runChromium(binary, page: page, arguments: ["--screenshot=\(shot.path)", "--window-size=\(size.width),\(size.height)"])
        #expect(run.status == 0, "chromium exited with \(run.status): \(run.stderr.suffix(2000))")
        #expect(Self.consoleMessages(run.stderr).isEmpty, "console: \(Self.consoleMessages(run.stderr))")
        let image = try PNG.decode(try Data(contentsOf: shot), path: shot.path)
        #expect(image.width == size.width && image.height == size.height)
        var nonWhite = 0
        var colours = Set<UInt32>()
        var chartBlue = false
        for p in 0..<(image.width * image.height) {
            let (r, g, b) = (image.pixels[4 * p], image.pixels[4 * p + 1], image.pixels[4 * p + 2])
            if r < 235 || g < 235 || b < 235 { nonWhite += 1 }
            colours.insert(UInt32(r >> 4) << 8 | UInt32(g >> 4) << 4 | UInt32(b >> 4))
            // The ranking bars' fill (#4e79a7): the SVG charts were drawn, not only text.
            if abs(Int(r) - 0x4e) <= 3 && abs(Int(g) - 0x79) <= 3 && abs(Int(b) - 0xa7) <= 3 { chartBlue = true }
        }
        let fraction = Double(nonWhite) / Double(image.width * image.height)
        #expect(fraction > 0.05, "only \(fraction * 100) % of the \(size.name) screenshot is not white")
        #expect(colours.count >= 30, "only \(colours.count) distinct colours in the \(size.name) screenshot")
        #expect(chartBlue, "no pixel of the bar chart's colour in the \(size.name) screenshot")
    }

    @Test func domHasEverySectionAndNoInjectedMarkup() throws {
        guard let binary = Self.chromium() else {
            Issue.record("Chromium is required to render the report in a browser but was not found: \(Self.installHint)")
            return
        }
        let (directory, page) = try Self.writePage()
        defer { try? FileManager.default.removeItem(at: directory) }
        let run = try Self.runChromium(binary, page: page, arguments: ["--dump-dom"])
        #expect(run.status == 0, "chromium exited with \(run.status): \(run.stderr.suffix(2000))")
        #expect(Self.consoleMessages(run.stderr).isEmpty, "console: \(Self.consoleMessages(run.stderr))")
        let dom = run.stdout
        #expect(dom.hasPrefix("<html") || dom.contains("<html"), "no DOM dumped: \(dom.prefix(200))")
        for id in ["summary", "ranking", "trajectory", "methods", "attributions", "agreement", "images"] {
            #expect(dom.contains("<section id=\"\(id)\">"), "section \(id) missing from the DOM")
        }
        // The browser parsed the hostile names as text: serialised escaped, never as elements.
        #expect(!dom.lowercased().contains("<script"))
        #expect(!dom.contains("<b>"))
        #expect(dom.contains("&lt;script&gt;console.error('xss')&lt;/script&gt;"))
        #expect(dom.components(separatedBy: "<svg").count - 1 == 11)
        #expect(dom.components(separatedBy: "<img").count - 1 == 6)
        #expect(dom.contains("</footer>"))
    }
}
