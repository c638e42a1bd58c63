/// Ordered name/value pairs from a query string or an `application/x-www-form-urlencoded` body.
/// Keys may repeat (`?state=a&state=b`); `parameters["state"]` answers the first, `all` every one.
public struct Parameters: Sendable, Equatable {
    public private(set) var pairs: [(name: String, value: String)]

    public init(_ pairs: [(name: String, value: String)] = []) { self.pairs = pairs }

    public subscript(name: String) -> String? { pairs.first { $0.name == name }?.value }
    public func all(_ name: String) -> [String] { pairs.filter { $0.name == name }.map(\.value) }

    /// A whole number within `range`, `fallback` when absent or empty; anything else (words,
    /// signs, numbers out of range) is a 400 that names the parameter and the range, so no
    /// arithmetic on it can overflow later.
    public func integer(_ name: String, in range: ClosedRange<Int>, default fallback: Int) throws(HTTPError) -> Int {
        guard let text = self[name], !text.isEmpty else { return fallback }
        guard text.utf8.count <= 19, text.utf8.allSatisfy({ (48...57).contains($0) }), let value = Int(text),
            range.contains(value)
        else {
            throw .badRequest(
                "\(name) takes a whole number from \(range.lowerBound) to \(range.upperBound); got \(text.prefix(40)).")
        }
        return value
    }
    public var isEmpty: Bool { pairs.isEmpty }

    public static func == (lhs: Parameters, rhs: Parameters) -> Bool {
        lhs.pairs.elementsEqual(rhs.pairs) { $0.name == $1.name && $0.value == $1.value }
    }

    /// Parses `a=1&b=x+y&c=%2B`. `+` is a space, `%2B` a plus; an empty value is kept as "".
    /// Malformed percent-encoding or bytes that are not UTF-8 throw, naming the bad pair.
    public static func decode(_ text: String, origin: String = "query string") throws(HTTPError) -> Parameters {
        var pairs: [(name: String, value: String)] = []
        for piece in text.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let eq = piece.firstIndex(of: "=") {
                name = piece[..<eq]
                value = piece[piece.index(after: eq)...]
            } else {
                name = piece
                value = ""
            }
            guard let decodedName = percentDecode(name, plusIsSpace: true),
                let decodedValue = percentDecode(value, plusIsSpace: true)
            else {
                throw .badRequest("The \(origin) has malformed percent-encoding near “\(piece.prefix(40))”.")
            }
            pairs.append((decodedName, decodedValue))
        }
        return Parameters(pairs)
    }
}

/// Decodes `%XX` escapes (and `+` when asked); nil if an escape is malformed or the bytes are not UTF-8.
public func percentDecode(_ text: some StringProtocol, plusIsSpace: Bool = false) -> String? {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var iterator = text.utf8.makeIterator()
    while let byte = iterator.next() {
        switch byte {
        case UInt8(ascii: "%"):
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                return nil
            }
            bytes.append(high << 4 | low)
        case UInt8(ascii: "+") where plusIsSpace:
            bytes.append(UInt8(ascii: " "))
        default:
            bytes.append(byte)
        }
    }
    return String(validating: bytes, as: UTF8.self)
}

/// Encodes a query value: everything but unreserved characters becomes `%XX`.
public func percentEncode(_ text: String) -> String {
    var out = ""
    for byte in text.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = Array("0123456789ABCDEF")
            out += "%\(hex[Int(byte >> 4)])\(hex[Int(byte & 0xF)])"
        }
    }
    return out
}

private func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
}
