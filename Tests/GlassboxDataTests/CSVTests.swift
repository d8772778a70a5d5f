import Foundation
import Testing
import GlassboxData
import GlassboxNN

@Suite struct CSVTests {
    static func parse(_ text: String, limits: CSVLimits = .default) throws -> [[String]] {
        try CSV.parse(Data(text.utf8), path: "t.csv", limits: limits).map(\.fields)
    }

    @Test func plainRecordsWithAnyLineEnding() throws {
        let expected = [["a", "b"], ["1", "2"], ["3", "4"]]
        for text in ["a,b\n1,2\n3,4\n", "a,b\n1,2\n3,4", "a,b\r\n1,2\r\n3,4\r\n", "a,b\r1,2\r3,4", "\u{FEFF}a,b\r\n1,2\n3,4"] {
            #expect(try Self.parse(text) == expected, "\(text.debugDescription)")
        }
    }

    @Test func quotedFields() throws {
        let text = "name,note\n\"Smith, J.\",\"said \"\"hi\"\"\"\n\"multi\r\nline\",\"\"\nplain,\"x\"\n"
        #expect(try Self.parse(text) == [["name", "note"], ["Smith, J.", "said \"hi\""], ["multi\r\nline", ""], ["plain", "x"]])
    }

    @Test func emptyFieldsSpacesAndUnicode() throws {
        #expect(try Self.parse("a,b,c\n,,\n x , y ,z\n") == [["a", "b", "c"], ["", "", ""], [" x ", " y ", "z"]])
        #expect(try Self.parse("a,b\n1,\n") == [["a", "b"], ["1", ""]])
        #expect(try Self.parse("größe,名前\n1,東京\n") == [["größe", "名前"], ["1", "東京"]])
        #expect(try Self.parse("") == [])
        #expect(try Self.parse("\u{FEFF}") == [])
    }

    @Test func blankLinesAreSkippedButCounted() throws {
        let records = try CSV.parse(Data("a,b\n\n1,2\r\n\r\n3,4\n\n".utf8), path: "t.csv")
        #expect(records.map(\.fields) == [["a", "b"], ["1", "2"], ["3", "4"]])
        #expect(records.map(\.row) == [1, 2, 3])
        #expect(records.map(\.line) == [1, 3, 5])
        #expect(records[2].location == "row 3 (line 5)")
    }

    @Test func raggedRowsAreNamed() {
        expectBadFile(path: "t.csv", location: "row 3", problem: "has 2 fields but row 1 has 3 (ragged row)") {
            _ = try Self.parse("a,b,c\n1,2,3\n4,5\n")
        }
        expectBadFile(path: "t.csv", location: "row 3 (line 4)", problem: "has 4 fields but row 1 has 3") {
            _ = try Self.parse("a,b,c\n\"x\ny\",2,3\n4,5,6,7\n")
        }
    }

    @Test func quoteErrors() {
        expectBadFile(path: "t.csv", location: "row 2, column 2", problem: "quoted field opened on line 2 is never closed") {
            _ = try Self.parse("a,b\n1,\"open\n2,3\n")
        }
        expectBadFile(path: "t.csv", location: "row 2, column 1", problem: "unexpected character after a closing quote") {
            _ = try Self.parse("a,b\n\"x\"y,2\n")
        }
        expectBadFile(path: "t.csv", location: "row 2, column 2", problem: "quote inside an unquoted field") {
            _ = try Self.parse("a,b\n1,5'10\"\n")
        }
    }

    @Test func invalidUTF8() {
        var data = Data("a,b\n1,".utf8)
        data.append(contentsOf: [0xC3, 0x28]) // a broken two-byte sequence
        data.append(Data("\n".utf8))
        expectBadFile(path: "t.csv", location: "row 2, column 2", problem: "invalid UTF-8") { _ = try CSV.parse(data, path: "t.csv") }
        var latin1 = Data("name\n".utf8)
        latin1.append(contentsOf: [0x4D, 0xFC, 0x6C, 0x6C, 0x65, 0x72]) // "Müller" in Latin-1
        expectBadFile(path: "t.csv", location: "row 2, column 1", problem: "invalid UTF-8") { _ = try CSV.parse(latin1, path: "t.csv") }
    }

    @Test func limits() {
        var limits = CSVLimits()
        limits.maxFieldBytes = 8
        expectBadFile(path: "t.csv", location: "row 2, column 1", problem: "field is longer than 8 bytes") {
            _ = try Self.parse("a\n123456789\n", limits: limits)
        }
        expectBadFile(path: "t.csv", location: "row 1, column 1", problem: "field is longer than 8 bytes") {
            _ = try Self.parse("\"123456789\"\n", limits: limits)
        }
        limits = CSVLimits()
        limits.maxRecordBytes = 10
        expectBadFile(path: "t.csv", location: "row 1", problem: "record is longer than 10 bytes") {
            _ = try Self.parse("aaaa,bbbb,cccc\n", limits: limits)
        }
        limits = CSVLimits()
        limits.maxFields = 3
        expectBadFile(path: "t.csv", location: "row 1", problem: "more than 3 fields") { _ = try Self.parse("a,b,c,d\n", limits: limits) }
    }

    @Test func readFromFileNamesThePath() throws {
        let dir = try TemporaryDirectory()
        defer { dir.cleanUp() }
        let url = try dir.write("data.csv", "x,y\n1,2\n3\n")
        expectBadFile(path: url.path, location: "row 3", problem: "ragged") { _ = try CSV.read(from: url) }
        var limits = CSVLimits()
        limits.maxFileBytes = 5
        expectBadFile(path: url.path, problem: "limit of 5") { _ = try CSV.read(from: url, limits: limits) }
    }
}
