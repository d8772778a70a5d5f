import Foundation
import Testing
import GlassboxNN
import GlassboxReport

@Suite struct ReportFileTests {
    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("glassbox-report-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func roundTripsThroughJSONAndRendersTheSamePage() throws {
        let data = sampleReport()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("results <&>.json")
        try ReportFile.write(data, to: url)
        let loaded = try ReportFile.load(from: url)
        #expect(loaded == data)
        #expect(try HTMLReport.render(loaded) == HTMLReport.render(data))
        // nil statistics survive as JSON null; keys are snake_case.
        let text = try String(contentsOf: url, encoding: .utf8)
        #expect(text.contains("\"feature_names\"") && text.contains("\"mean_pairwise_spearman\"") && text.contains("\"top_k\""))
        #expect(text.contains("null"))
        #expect(text.contains("\"format\" : \"glassbox-report/1\""))
    }

    @Test func statisticsOverSeeds() {
        let r = FeatureRanking(method: "w", seeds: [1, 2, 3], values: [[1, 0], [2, 0], [3, 3]])
        #expect(r.mean == [2, 1])
        // Sample standard deviation: sqrt(((1−2)² + 0 + (3−2)²)/2) = 1; sqrt((1 + 1 + 4)/2) = √3.
        #expect(abs(r.standardDeviation[0] - 1) < 1e-12 && abs(r.standardDeviation[1] - 3.0.squareRoot()) < 1e-12)
        #expect(FeatureRanking(method: "w", seeds: [1], values: [[5, 6]]).standardDeviation == [0, 0])
    }

    /// The error a bad file gives, as text (an expected error that did not come is recorded).
    func errorText(_ json: String) -> String {
        do {
            _ = try ReportFile.decode(Data(json.utf8), path: "bad.json")
            Issue.record("expected an error for \(json.prefix(80))")
            return ""
        } catch let error as GlassboxError {
            return error.description
        } catch {
            Issue.record("not a GlassboxError: \(error)")
            return ""
        }
    }

    func mutated(_ edit: (inout [String: Any]) -> Void) throws -> String {
        var object = try JSONSerialization.jsonObject(with: ReportFile.encode(sampleReport())) as! [String: Any]
        edit(&object)
        return String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    @Test func badFilesNameTheFileThePlaceAndTheProblem() throws {
        let truncated = errorText("{\"format\": \"glassbox-report/1\", \"title\": ")
        #expect(truncated.contains("bad.json") && truncated.contains("not valid JSON"), "\(truncated)")

        let missing = errorText("{\"format\": \"glassbox-report/1\", \"notes\": []}")
        #expect(missing.contains("bad.json") && missing.contains("'title'") && missing.contains("missing"), "\(missing)")

        let wrongType = try errorText(mutated { o in
            var t = o["tabular"] as! [String: Any]; t["feature_names"] = "not a list"; o["tabular"] = t
        })
        #expect(wrongType.contains("tabular.feature_names") && wrongType.contains("expected an array"), "\(wrongType)")

        let short = try errorText(mutated { o in
            var t = o["tabular"] as! [String: Any]
            var methods = t["methods"] as! [[String: Any]]
            methods[1]["importance"] = [1.0, 2.0]
            t["methods"] = methods; o["tabular"] = t
        })
        #expect(short.contains("tabular.methods[1].importance") && short.contains("has 2 values for 8 features"), "\(short)")

        let pixels = try errorText(mutated { o in
            var i = o["image"] as! [String: Any]
            var examples = i["examples"] as! [[String: Any]]
            examples[0]["height"] = 9
            i["examples"] = examples; o["image"] = i
        })
        #expect(pixels.contains("image.examples[0].pixels") && pixels.contains("1×9×8"), "\(pixels)")

        let format = try errorText(mutated { $0["format"] = "something-else/9" })
        #expect(format.contains("format") && format.contains("expected 'glassbox-report/1'"), "\(format)")

        let matrix = try errorText(mutated { o in
            var t = o["tabular"] as! [String: Any]
            var a = t["agreement"] as! [String: Any]
            a["kendall"] = [[1.0]]
            t["agreement"] = a; o["tabular"] = t
        })
        #expect(matrix.contains("tabular.agreement.kendall") && matrix.contains("1 rows for 3 methods"), "\(matrix)")
    }

    @Test func missingFileIsAnIOError() {
        do {
            _ = try ReportFile.load(from: URL(fileURLWithPath: "/nonexistent/results.json"))
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("/nonexistent/results.json"))
        }
    }

    @Test func renderRefusesInconsistentData() {
        var data = sampleReport()
        data.tabular?.ranking?.values[0].append(1)
        do {
            _ = try HTMLReport.render(data)
            Issue.record("expected an error")
        } catch {
            #expect("\(error)".contains("tabular.ranking.values[0]"))
        }
    }
}

@Suite struct PNGTests {
    @Test func encodesAndDecodesLosslessly() throws {
        var image = RGBAImage(width: 37, height: 5)
        for y in 0..<5 { for x in 0..<37 { image[x, y] = RGB(UInt8(x * 7 % 256), UInt8(y * 50), UInt8((x * y) % 256)) } }
        let png = PNG.encode(image)
        #expect(Array(png.prefix(8)) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        #expect(try PNG.decode(png) == image)
        #expect(PNG.dataURI(image).hasPrefix("data:image/png;base64,"))
    }

    @Test func storedBlocksSplitAt64KiB() throws {
        // 200×100 RGBA = 80,100 raw bytes with filter bytes: two stored blocks.
        var image = RGBAImage(width: 200, height: 100)
        image[199, 99] = RGB(1, 2, 3)
        #expect(try PNG.decode(PNG.encode(image)) == image)
    }

    @Test func corruptFilesAreRefused() {
        var png = [UInt8](PNG.encode(RGBAImage(width: 2, height: 2)))
        png[20] ^= 0xFF  // inside IHDR: its CRC no longer matches
        do { _ = try PNG.decode(Data(png), path: "x.png"); Issue.record("expected an error") } catch {
            #expect("\(error)".contains("x.png") && "\(error)".contains("CRC"))
        }
        do { _ = try PNG.decode(Data("GIF89a".utf8)); Issue.record("expected an error") } catch {
            #expect("\(error)".contains("signature"))
        }
    }
}
