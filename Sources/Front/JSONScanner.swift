import Foundation

/// Finds where JSON values start and end without building them, so that documents can be
/// stored byte for byte as Front sent them (a decode and re-encode would reorder keys and
/// reformat numbers, and then every re-read would look like a change).
///
/// It checks structure (brackets, strings, literals); the caller decodes the small parts it needs.
package struct JSONScanner {
    package struct Malformed: Error, CustomStringConvertible {
        var offset: Int
        var why: String
        package var description: String { "\(why) at byte \(offset)" }
    }

    private let bytes: [UInt8]
    package init(_ data: Data) { bytes = [UInt8](data) }

    /// The members of the top-level object: name → byte range of the value.
    package func objectMembers() throws(Malformed) -> [(name: String, range: Range<Int>)] {
        var index = skipSpace(0)
        let members = try members(at: &index)
        index = skipSpace(index)
        guard index == bytes.count else { throw Malformed(offset: index, why: "trailing characters") }
        return members
    }

    /// The members of the object in `range`.
    package func objectMembers(in range: Range<Int>) throws(Malformed) -> [(name: String, range: Range<Int>)] {
        var index = range.lowerBound
        return try members(at: &index)
    }

    /// The byte ranges of the elements of the array in `range`.
    package func arrayElements(in range: Range<Int>) throws(Malformed) -> [Range<Int>] {
        var index = range.lowerBound
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else {
            throw Malformed(offset: index, why: "expected an array")
        }
        index = skipSpace(index + 1)
        var elements: [Range<Int>] = []
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { return [] }
        while true {
            let start = index
            try skipValue(&index)
            elements.append(start..<index)
            index = skipSpace(index)
            guard index < bytes.count else { throw Malformed(offset: index, why: "unterminated array") }
            if bytes[index] == UInt8(ascii: "]") { return elements }
            guard bytes[index] == UInt8(ascii: ",") else { throw Malformed(offset: index, why: "expected , or ]") }
            index = skipSpace(index + 1)
        }
    }

    package func slice(_ range: Range<Int>) -> Data { Data(bytes[range]) }

    private func members(at index: inout Int) throws(Malformed) -> [(name: String, range: Range<Int>)] {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else {
            throw Malformed(offset: index, why: "expected an object")
        }
        index = skipSpace(index + 1)
        var members: [(name: String, range: Range<Int>)] = []
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            return []
        }
        while true {
            let nameStart = index
            try skipString(&index)
            let name = try decodeString(nameStart..<index)
            index = skipSpace(index)
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else {
                throw Malformed(offset: index, why: "expected :")
            }
            index = skipSpace(index + 1)
            let valueStart = index
            try skipValue(&index)
            members.append((name, valueStart..<index))
            index = skipSpace(index)
            guard index < bytes.count else { throw Malformed(offset: index, why: "unterminated object") }
            if bytes[index] == UInt8(ascii: "}") {
                index += 1
                return members
            }
            guard bytes[index] == UInt8(ascii: ",") else { throw Malformed(offset: index, why: "expected , or }") }
            index = skipSpace(index + 1)
        }
    }

    private func decodeString(_ range: Range<Int>) throws(Malformed) -> String {
        let raw = bytes[range]
        if !raw.contains(UInt8(ascii: "\\")) {
            return String(decoding: raw.dropFirst().dropLast(), as: UTF8.self)
        }
        guard let string = try? JSONDecoder().decode(String.self, from: Data(raw)) else {
            throw Malformed(offset: range.lowerBound, why: "bad string")
        }
        return string
    }

    private func skipSpace(_ start: Int) -> Int {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return index
            }
        }
        return index
    }

    private func skipValue(_ index: inout Int) throws(Malformed) {
        guard index < bytes.count else { throw Malformed(offset: index, why: "unexpected end") }
        switch bytes[index] {
        case UInt8(ascii: "\""):
            try skipString(&index)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            // Nested containers: only brackets and strings matter for finding the end.
            var depth = 0
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    try skipString(&index)
                    continue
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    depth -= 1
                    if depth == 0 {
                        index += 1
                        return
                    }
                default:
                    break
                }
                index += 1
            }
            throw Malformed(offset: index, why: "unterminated container")
        default:
            let start = index
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."),
                    UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "a")...UInt8(ascii: "z"):
                    index += 1
                default:
                    guard index > start else { throw Malformed(offset: index, why: "unexpected character") }
                    return
                }
            }
            guard index > start else { throw Malformed(offset: index, why: "unexpected end") }
        }
    }

    private func skipString(_ index: inout Int) throws(Malformed) {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else {
            throw Malformed(offset: index, why: "expected a string")
        }
        index += 1
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""):
                index += 1
                return
            default: index += 1
            }
        }
        throw Malformed(offset: index, why: "unterminated string")
    }
}
