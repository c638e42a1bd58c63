import Foundation
import Mustache

/// The Mustache templates of `templates/`, read and parsed once at start-up. Values render
/// HTML-escaped unless a template asks otherwise with `{{{ }}}`. Pages extend `layout` with
/// `{{<layout}}{{$content}}…{{/content}}{{/layout}}`.
public struct Templates: Sendable {
    private let library: MustacheLibrary
    public let names: [String]

    /// Loads every `*.mustache` under `directory`, named by its path without the extension.
    public init(directory: String) throws(TemplateError) {
        var library = MustacheLibrary()
        var names: [String] = []
        let root = URL(fileURLWithPath: directory).standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: root) else { throw .missingDirectory(root) }
        for case let relative as String in walker where relative.hasSuffix(".mustache") {
            let name = String(relative.dropLast(".mustache".count))
            let path = root + "/" + relative
            do {
                try library.register(String(contentsOfFile: path, encoding: .utf8), named: name)
            } catch {
                throw .unparsable(path, "\(error)")
            }
            names.append(name)
        }
        guard !names.isEmpty else { throw .missingDirectory(root) }
        self.library = library
        self.names = names.sorted()
    }

    /// Renders `name` with `context` (dictionaries or `MustacheParent` values render fastest).
    public func render(_ name: String, _ context: Any) throws(TemplateError) -> String {
        guard let text = library.render(context, withTemplate: name) else { throw .unknown(name) }
        return text
    }
}

/// A template that is missing or does not parse; start-up stops with this, naming the file.
public enum TemplateError: Error, CustomStringConvertible {
    case missingDirectory(String)
    case unparsable(String, String)
    case unknown(String)

    public var description: String {
        switch self {
        case .missingDirectory(let path): "no *.mustache templates in \(path) (set --templates)"
        case .unparsable(let path, let why): "template \(path) does not parse: \(why)"
        case .unknown(let name): "no template named \(name)"
        }
    }
}
