import Foundation
import Front
import Yams

/// The eight Front resources a capture can copy, and how each is read.
public enum FrontResource: String, Sendable, CaseIterable, Codable, Comparable {
    case channels, contacts, conversations, events, inboxes, tags, teammates, teams

    /// Snapshot resources are read whole on every run (this list); the others from a cursor (nil).
    public var list: FrontList? {
        switch self {
        case .channels: .channels
        case .inboxes: .inboxes
        case .tags: .tags
        case .teammates: .teammates
        case .teams: .teams
        case .contacts, .conversations, .events: nil
        }
    }

    public var isSnapshot: Bool { list != nil }

    public static func < (lhs: FrontResource, rhs: FrontResource) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// One resource captured into one collection.
public struct CaptureBinding: Sendable, Equatable {
    public var resource: FrontResource
    public var collection: String

    public init(resource: FrontResource, collection: String) {
        self.resource = resource
        self.collection = collection
    }
}

/// A Front capture's configuration, as Estuary's `source-front` takes it: a token, an optional
/// start date, and bindings. Parsed from JSON or YAML and checked before any request is made.
public struct CaptureConfig: Sendable {
    /// Front was founded in 2013; before that there is nothing to read.
    public static let defaultStartDate = Date(timeIntervalSince1970: 946_684_800)  // 2000-01-01T00:00:00Z

    public var token: FrontToken
    public var startDate: Date
    public var bindings: [CaptureBinding]

    public init(token: FrontToken, startDate: Date = CaptureConfig.defaultStartDate, bindings: [CaptureBinding]) {
        self.token = token
        self.startDate = startDate
        self.bindings = bindings
    }

    /// Reads a configuration file's contents (JSON, or YAML when it does not start with `{`).
    /// A non-empty `tokenOverride` (from `FRONT_API_TOKEN`) replaces the file's token.
    public static func parse(_ data: Data, tokenOverride: String? = nil) throws(ConfigError) -> CaptureConfig {
        let text = String(decoding: data, as: UTF8.self)
        let raw: Raw
        do {
            if text.drop(while: \.isWhitespace).first == "{" {
                raw = try JSONDecoder().decode(Raw.self, from: data)
            } else {
                raw = try YAMLDecoder().decode(Raw.self, from: text)
            }
        } catch {
            throw ConfigError(field: Self.fieldName(of: error), problem: Self.problem(of: error))
        }
        return try validate(raw, tokenOverride: tokenOverride)
    }

    /// Parses a `YYYY-MM-DDTHH:MM:SSZ` UTC date, nothing looser.
    public static func parseStartDate(_ text: String) -> Date? {
        let pattern = #/^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/#
        guard let match = text.wholeMatch(of: pattern) else { return nil }
        var parts = DateComponents()
        parts.calendar = Calendar(identifier: .gregorian)
        parts.timeZone = TimeZone(identifier: "UTC")
        (parts.year, parts.month, parts.day) = (Int(match.1), Int(match.2), Int(match.3))
        (parts.hour, parts.minute, parts.second) = (Int(match.4), Int(match.5), Int(match.6))
        guard parts.isValidDate, let date = parts.date else { return nil }
        return date
    }

    private static func validate(_ raw: Raw, tokenOverride: String?) throws(ConfigError) -> CaptureConfig {
        guard let config = raw.config else { throw ConfigError(field: "config", problem: "missing") }
        let token: FrontToken
        if let override = tokenOverride.flatMap(FrontToken.init) {
            token = override
        } else if let fromFile = config.credentials?.access_token.flatMap(FrontToken.init) {
            token = fromFile
        } else {
            throw ConfigError(
                field: "config.credentials.access_token", problem: "missing; give a Front API token here or in FRONT_API_TOKEN")
        }
        var startDate = defaultStartDate
        if let text = config.start_date {
            guard let date = parseStartDate(text) else {
                throw ConfigError(
                    field: "config.start_date", problem: "\"\(text)\" is not a UTC date like 2024-11-15T00:00:00Z")
            }
            startDate = date
        }
        guard let rawBindings = raw.bindings, !rawBindings.isEmpty else {
            throw ConfigError(field: "bindings", problem: "none given; name at least one resource and its target collection")
        }
        var bindings: [CaptureBinding] = []
        for (index, binding) in rawBindings.enumerated() {
            guard let name = binding.resource?.name else {
                throw ConfigError(field: "bindings[\(index)].resource.name", problem: "missing")
            }
            guard let resource = FrontResource(rawValue: name) else {
                let known = FrontResource.allCases.map(\.rawValue).joined(separator: ", ")
                throw ConfigError(field: "bindings[\(index)].resource.name", problem: "\"\(name)\" is not one of \(known)")
            }
            guard let target = binding.target?.trimmingCharacters(in: .whitespaces), !target.isEmpty else {
                throw ConfigError(field: "bindings[\(index)].target", problem: "missing; name the collection to write")
            }
            if let earlier = bindings.firstIndex(where: { $0.resource == resource }) {
                throw ConfigError(
                    field: "bindings[\(index)].resource.name", problem: "\(name) is already captured by bindings[\(earlier)]")
            }
            if let earlier = bindings.firstIndex(where: { $0.collection == target }) {
                throw ConfigError(
                    field: "bindings[\(index)].target", problem: "\(target) is already the target of bindings[\(earlier)]")
            }
            bindings.append(CaptureBinding(resource: resource, collection: target))
        }
        return CaptureConfig(token: token, startDate: startDate, bindings: bindings)
    }

    private static func fieldName(of error: any Error) -> String {
        guard let error = error as? DecodingError else { return "(file)" }
        let path: [any CodingKey]
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            path = context.codingPath
        case .keyNotFound(let key, let context):
            path = context.codingPath + [key]
        @unknown default:
            path = []
        }
        if path.isEmpty { return "(file)" }
        return path.map { key in key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)" }.joined()
            .replacingOccurrences(of: ".[", with: "[").trimmingCharacters(in: CharacterSet(charactersIn: "."))
    }

    private static func problem(of error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not JSON or YAML: \(error)" }
        switch error {
        case .typeMismatch(let type, _): return "expected \(type)"
        case .valueNotFound(let type, _): return "expected \(type), found null"
        case .keyNotFound: return "missing"
        case .dataCorrupted(let context): return "not JSON or YAML: \(context.debugDescription)"
        @unknown default: return "unreadable"
        }
    }

    private struct Raw: Decodable {
        struct Config: Decodable {
            struct Credentials: Decodable { var access_token: String? }
            var credentials: Credentials?
            var start_date: String?
        }
        struct Binding: Decodable {
            struct Resource: Decodable { var name: String? }
            var resource: Resource?
            var target: String?
        }
        var config: Config?
        var bindings: [Binding]?
    }
}

/// A configuration that cannot run, naming the field (`config.start_date`, `bindings[2].target`).
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var problem: String

    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }

    public var description: String { "\(field): \(problem)" }
}
