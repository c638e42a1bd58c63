import Fivetran
import Foundation
import Model
import Store
import Web

// `/api/captures…`: list, read, create, change and delete captures, checked by the same rules
// as the forms (`CaptureFields`), with errors that name each bad field.
extension APIRoutes {
    func registerCaptures(in router: inout Router) {
        router.get("/api/captures") { request in try await captures(request) }
        router.post("/api/captures") { request in try await createCapture(request) }
        router.get("/api/captures/{id}") { request in try await capture(request) }
        router.add("PATCH", "/api/captures/{id}") { request in try await changeCapture(request) }
        router.add("DELETE", "/api/captures/{id}") { request in try await deleteCapture(request) }
    }

    func captures(_ request: Request) async throws -> Response {
        _ = try authentication.caller(request)
        let (captures, latest) = try access.read { store in (try store.captures(), try store.latestJobs()) }
        let now = Date()
        return .jsonWithETag(
            CaptureList(captures: captures.map { CaptureJSON($0, lastJob: latest[$0.id], now: now) }), request: request)
    }

    func capture(_ request: Request) async throws -> Response {
        _ = try authentication.caller(request)
        let capture = try access.capture(request)
        return .jsonWithETag(try json(capture), request: request)
    }

    func createCapture(_ request: Request) async throws -> Response {
        let actor = try authentication.actor(request)
        let (fields, wrongTypes) = try Self.fields(request, editing: false)
        let (checked, problems) = fields.check(creating: true)
        guard problems.isEmpty, wrongTypes.isEmpty else { return Self.refusal(problems, wrongTypes, request) }
        let capture: CaptureRecord
        do {
            // Its maker (`createdBy`) is who the audit names.
            capture = try access.store.insertCapture(try checked.newCapture(box: box, createdBy: actor))
        } catch let error as StoreError where error.isNameTaken {
            return Self.refusal([.name: CaptureRoutes.nameTaken(checked.name ?? "")], [:], request)
        } catch let error as StoreError {
            throw access.failure(error)
        }
        var response = Response.json(CaptureJSON(capture, lastJob: nil), status: 201)
        response.setHeader("Location", "/api/captures/\(capture.id)")
        return response
    }

    func changeCapture(_ request: Request) async throws -> Response {
        let actor = try authentication.actor(request)
        let capture = try access.capture(request)
        let (fields, wrongTypes) = try Self.fields(request, editing: true)
        let (checked, problems) = fields.check(creating: false)
        guard problems.isEmpty, wrongTypes.isEmpty else { return Self.refusal(problems, wrongTypes, request) }
        let change = try checked.change(from: capture, box: box)
        guard !change.isEmpty else { return .json(try json(capture)) }
        let changed: CaptureRecord?
        do {
            changed = try access.store.updateCapture(id: capture.id, change, by: actor)
        } catch {
            if error.isNameTaken { return Self.refusal([.name: CaptureRoutes.nameTaken(checked.name ?? "")], [:], request) }
            guard let job = error.runningJob else { throw access.failure(error) }
            throw HTTPError.conflict(
                "Job \(job) is writing the collections of the resources removed, so they cannot be deleted now and "
                    + "nothing was changed. Wait for it to end (or cancel it), or send \"removed_collections\": \"keep\".")
        }
        guard let changed else { throw HTTPError.notFound("There is no capture \(capture.id). It may have been removed.") }
        return .json(try json(changed))
    }

    func deleteCapture(_ request: Request) async throws -> Response {
        let actor = try authentication.actor(request)
        guard let choice = request.query["collections"].flatMap(CollectionChoice.init(rawValue:)) else {
            throw HTTPError.badRequest(
                "Say what becomes of the capture's collections (and checkpoints): ?collections=keep or ?collections=delete.")
        }
        guard let id = request[parameter: "id"].flatMap(Int64.init) else { throw HTTPError.notFound("There is no such capture.") }
        do {
            guard try access.store.deleteCapture(id: id, collections: choice, by: actor) else {
                throw HTTPError.notFound("There is no capture \(id). It may have been removed.")
            }
        } catch let error as StoreError {
            guard let job = error.runningJob else { throw access.failure(error) }
            throw HTTPError.conflict("Job \(job) is writing these collections now; wait for it to end (or cancel it).")
        }
        return Response(status: 204)
    }

    // MARK: Reading and answering

    /// The capture with its newest job.
    private func json(_ capture: CaptureRecord) throws(HTTPError) -> CaptureJSON {
        let latest = try access.read { try $0.jobs(JobFilter(captureID: capture.id, limit: 1)) }.first
        return CaptureJSON(capture, lastJob: latest)
    }

    /// 422 naming every bad field by its JSON name: the rules' problems, and the fields of the
    /// wrong type (or unknown) as `fields(_:editing:)` found them.
    static func refusal(_ problems: CaptureFields.Problems, _ wrongTypes: [String: String], _ request: Request) -> Response {
        let fields = Dictionary(uniqueKeysWithValues: problems.map { ($0.key.apiName, $0.value) })
            .merging(wrongTypes) { _, wrongType in wrongType }
        let names = fields.keys.sorted().joined(separator: ", ")
        return .json(
            FieldErrors(
                status: 422, title: "Cannot accept this",
                message: "Some fields cannot be accepted (\(names)); \"fields\" says what is wrong with each.",
                requestID: request.requestID, fields: fields),
            status: 422)
    }

    /// The body's fields, and the problems of those of the wrong type or unknown (by JSON name).
    /// Not JSON, or not an object: 400; another media type than JSON: 415.
    static func fields(_ request: Request, editing: Bool) throws(HTTPError) -> (CaptureFields, [String: String]) {
        if let type = request.mediaType, type != "application/json", !type.hasSuffix("+json") {
            throw .unsupportedMediaType("Send the capture as JSON, with Content-Type: application/json.")
        }
        guard !request.body.isEmpty, let value = try? JSONDecoder().decode(JSONValue.self, from: Data(request.body)),
            case .object(let object) = value
        else {
            throw .badRequest(
                "The body must be a JSON object such as {\"name\": \"Acme\", \"access_token\": \"…\", \"every_minutes\": 5}.")
        }
        return CaptureFields.from(json: object, editing: editing)
    }
}

extension CaptureFields {
    /// A script's JSON object as fields: each of the right type is taken, each of another type
    /// (or unknown) is a problem under its JSON name. `editing` also takes `removed_collections`.
    static func from(json object: [String: JSONValue], editing: Bool) -> (CaptureFields, [String: String]) {
        var fields = CaptureFields()
        var wrong: [String: String] = [:]
        var known: [Field] = [.name, .token, .startDate, .resources, .schedule, .paused]
        if editing { known.append(.removedCollections) }
        for (key, value) in object {
            guard let field = known.first(where: { $0.apiName == key }) else {
                wrong[key] = "Unknown field. The fields are \(known.map(\.apiName).joined(separator: ", "))."
                continue
            }
            switch (field, value) {
            case (.name, .string(let text)): fields.name = text.trimmingCharacters(in: .whitespacesAndNewlines)
            case (.name, _): wrong[key] = "name must be a string: the capture's name."
            case (.token, .string(let text)): fields.token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            case (.token, _): wrong[key] = "access_token must be a string: a Front API token."
            case (.startDate, .string(let text)): fields.startText = text.trimmingCharacters(in: .whitespaces)
            case (.startDate, .null): fields.startText = ""
            case (.startDate, _):
                wrong[key] = "start_date must be a string such as 2024-11-15T00:00:00Z, or null for from the beginning."
            case (.resources, .array(let items)):
                let names = items.compactMap { item -> String? in
                    if case .string(let name) = item { return name }
                    return nil
                }
                if names.count == items.count {
                    fields.resources = names
                } else {
                    wrong[key] = "resources must be a list of resource names, such as [\"events\", \"tags\"]."
                }
            case (.resources, _): wrong[key] = "resources must be a list of resource names, such as [\"events\", \"tags\"]."
            case (.schedule, .null): fields.every = .manual
            case (.schedule, .int(let minutes)): fields.every = .number(Double(minutes))
            case (.schedule, .double(let minutes)): fields.every = .number(minutes)
            case (.schedule, _): wrong[key] = everyProblem + " Send a number, or null for manual."
            case (.paused, .bool(let paused)): fields.paused = paused
            case (.paused, _): wrong[key] = "paused must be true or false."
            case (.removedCollections, .string(let text)) where CollectionChoice(rawValue: text) != nil:
                fields.removedCollections = CollectionChoice(rawValue: text)
            case (.removedCollections, _):
                wrong[key] =
                    "removed_collections must be \"keep\" or \"delete\": what becomes of the collections of resources removed."
            }
        }
        return (fields, wrong)
    }
}
