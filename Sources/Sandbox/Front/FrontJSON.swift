import Foundation

/// A JSON value with ordered keys, built by the sandbox's renderers.
///
/// Ordered keys keep responses byte-for-byte deterministic for a given seed, and `time` renders
/// a millisecond instant as Front does: UNIX seconds with at most three decimals, no float noise.
enum FrontJSON: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case time(Int64)
    case string(String)
    case array([FrontJSON])
    case object([(String, FrontJSON)])
    /// Bytes written as they are: the hostile-data faults use it for `NaN`, `Infinity`, `1e400`.
    case raw(String)

    static func str(_ value: String?) -> FrontJSON { value.map(FrontJSON.string) ?? .null }

    func encoded() -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        write(into: &out)
        return out
    }

    func write(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .int(let i): out.append(contentsOf: String(i).utf8)
        case .time(let ms): out.append(contentsOf: FrontTime.seconds(ms).utf8)
        case .string(let s): Self.writeString(s, into: &out)
        case .raw(let text): out.append(contentsOf: text.utf8)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let pairs):
            out.append(UInt8(ascii: "{"))
            for (i, (key, value)) in pairs.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                Self.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                value.write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Every `time` value at any depth replaced by `literal` (the corrupt-timestamps fault).
    func replacingTimes(with literal: String) -> FrontJSON {
        switch self {
        case .time: .raw(literal)
        case .array(let items): .array(items.map { $0.replacingTimes(with: literal) })
        case .object(let pairs): .object(pairs.map { ($0.0, $0.1.replacingTimes(with: literal)) })
        default: self
        }
    }

    private static let hex = Array("0123456789abcdef".utf8)

    static func writeString(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: [92, 34])
            case UInt8(ascii: "\\"): out.append(contentsOf: [92, 92])
            case 0x0A: out.append(contentsOf: [92, UInt8(ascii: "n")])
            case 0x0D: out.append(contentsOf: [92, UInt8(ascii: "r")])
            case 0x09: out.append(contentsOf: [92, UInt8(ascii: "t")])
            case 0..<0x20:
                out.append(contentsOf: [92, UInt8(ascii: "u"), 48, 48, hex[Int(byte >> 4)], hex[Int(byte & 15)]])
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

/// Millisecond instants and their Front spellings.
enum FrontTime {
    /// `1731619498317` → `"1731619498.317"`, `1703102616000` → `"1703102616"`.
    static func seconds(_ ms: Int64) -> String {
        let whole = ms >= 0 ? ms / 1000 : (ms - 999) / 1000
        var frac = Int(ms - whole * 1000)
        guard frac != 0 else { return String(whole) }
        var digits = 3
        while frac % 10 == 0 {
            frac /= 10
            digits -= 1
        }
        let f = String(frac)
        return "\(whole)." + String(repeating: "0", count: digits - f.count) + f
    }

    /// Parses a query's seconds ("1731542400", "1731542400.0", "1731542400.001") into
    /// milliseconds as a Double, rounded to the microsecond so "x.317" compares equal to 317 ms.
    static func parseSeconds(_ text: String) -> Double? {
        guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite else { return nil }
        return (value * 1_000_000).rounded() / 1000
    }

    static func nowMs() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded(.down)) }
}

/// Base-36 spellings of numeric ids (`evt_` + base 36, as Front's own ids).
enum FrontBase36 {
    static func encode(_ value: Int) -> String { String(value, radix: 36) }
    static func decode(_ text: Substring) -> Int? { Int(text, radix: 36) }
}
