import Foundation

/// A new, empty folder under the system's temporary directory, named `PREFIX-` and eight random
/// characters so parallel tests never share one. The caller removes it when it is done
/// (`try? FileManager.default.removeItem(at: folder)`); nothing else is ever removed.
public func makeTemporaryFolder(_ prefix: String) throws -> URL {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    return folder
}
