import Foundation
import Testing
import GlassboxData
import GlassboxNN

@Suite("PGM/PPM images")
struct PNMTests {
    @Test func asciiGreyWithComments() throws {
        let text = "P2\n# a comment\n3 2 # trailing\n4\n0 1 2\n3 4 0\n"
        let t = try PNM.decode(Data(text.utf8), path: "a.pgm")
        #expect(t.shape == [1, 1, 2, 3])
        #expect(t.scalars == [0, 0.25, 0.5, 0.75, 1, 0])
    }

    @Test func asciiColourIsPlanar() throws {
        let t = try PNM.decode(Data("P3 2 1 255 255 0 0 0 0 255".utf8), path: "c.ppm")
        #expect(t.shape == [1, 3, 1, 2])
        #expect(t.scalars == [1, 0, 0, 0, 0, 1])
    }

    @Test func sixteenBitBinary() throws {
        var data = Data("P5 2 1 1000\n".utf8)
        data.append(contentsOf: [0x01, 0xF4, 0x03, 0xE8])  // 500, 1000
        #expect(try PNM.decode(data, path: "w.pgm").scalars == [0.5, 1])
    }

    @Test(arguments: [1, 3])
    func binaryRoundTrip(channels: Int) throws {
        let values = (0..<channels * 20).map { Float(($0 * 37) % 256) / 255 }
        let image = Tensor(uncheckedShape: [1, channels, 4, 5], scalars: values)
        let back = try PNM.decode(try PNM.encode(image), path: "rt")
        #expect(back == image)
    }

    @Test(arguments: [
        ("P7 1 1 255\n\0", "byte offset 0"),
        ("P5 2 2 255\n\u{1}\u{2}", "byte offset 13"),
        ("P2 2 1 3 1 9", "byte offset 11"),
        ("P2 0 1 3 ", "positive"),
        ("P2 x", "byte offset 3"),
        ("P5 99999999 99999999 255\n", "exceeds"),
        ("P2 2 2 70000 1 1 1 1", "maxval"),
        ("P2 2 1 255 1", "file ends"),
    ])
    func hostileInputNamesOffset(text: String, expected: String) throws {
        do {
            _ = try PNM.decode(Data(text.utf8), path: "bad.pgm")
            Issue.record("accepted \(text.debugDescription)")
        } catch let GlassboxError.badFile(path, location, problem) {
            #expect(path == "bad.pgm" && (location + " " + problem).contains(expected), "\(location): \(problem)")
        }
    }
}
