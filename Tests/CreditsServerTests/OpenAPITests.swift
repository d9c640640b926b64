import CreditsServer
import Foundation
import TestSupport
import Testing
import Yams

/// The OpenAPI document served at /openapi.yaml documents every route, and its examples match
/// their schemas.
@Suite struct OpenAPITests {
    static func document() throws -> [String: Any] {
        try #require(try Yams.load(yaml: OpenAPIDocument.text) as? [String: Any])
    }

    @Test func everyRouteIsDocumentedAndNothingElse() async throws {
        try await TestServer.with(.sqlite) { server in
            let document = try OpenAPITests.document()
            let paths = try #require(document["paths"] as? [String: Any])
            let table = buildRouter(services: server.services).routes
            var routes = Set<String>()
            for route in table.routes {
                let key = "\(route.method.rawValue.lowercased()) \(route.path)"
                routes.insert(key)
                let operations = paths[route.path] as? [String: Any]
                #expect(operations?[route.method.rawValue.lowercased()] != nil, "\(key) is not documented")
            }
            for (path, value) in paths {
                for method in (value as? [String: Any] ?? [:]).keys where ["get", "post", "put", "patch", "delete"].contains(method) {
                    #expect(routes.contains("\(method) \(path)"), "\(method) \(path) is documented but not served")
                }
            }
        }
    }

    @Test func examplesMatchTheirSchemas() throws {
        let document = try OpenAPITests.document()
        let validator = SchemaValidator(document: document)
        var checked = 0
        func visit(_ node: Any, path: String) {
            if let object = node as? [String: Any] {
                if let schema = object["schema"], let example = object["example"] {
                    for problem in validator.problems(example, against: schema, at: path) { Issue.record("\(problem)") }
                    checked += 1
                }
                for (key, value) in object { visit(value, path: path + "/" + key) }
            } else if let array = node as? [Any] {
                for (index, value) in array.enumerated() { visit(value, path: path + "/\(index)") }
            }
        }
        visit(document["paths"] as Any, path: "paths")
        visit(document["components"] as Any, path: "components")
        #expect(checked >= 20)
    }

    @Test func theValidatorCatchesAWrongExample() {
        let validator = SchemaValidator(document: ["components": ["schemas": ["Thing": ["type": "object", "required": ["id"],
                                                                                      "properties": ["id": ["type": "integer"]]]]]])
        let schema: [String: Any] = ["$ref": "#/components/schemas/Thing"]
        #expect(validator.problems(["id": 3], against: schema, at: "x").isEmpty)
        #expect(!validator.problems(["id": "three"], against: schema, at: "x").isEmpty)
        #expect(!validator.problems([String: Any](), against: schema, at: "x").isEmpty)
    }
}

/// A small JSON Schema checker for the parts of OpenAPI 3.1 the document uses.
struct SchemaValidator {
    let document: [String: Any]

    func resolve(_ schema: Any) -> [String: Any] {
        guard let object = schema as? [String: Any] else { return [:] }
        guard let reference = object["$ref"] as? String, reference.hasPrefix("#/") else { return object }
        var node: Any = document
        for part in reference.dropFirst(2).split(separator: "/") { node = (node as? [String: Any])?[String(part)] ?? [:] }
        return resolve(node)
    }

    func problems(_ value: Any, against schema: Any, at path: String) -> [String] {
        let schema = resolve(schema)
        if let all = schema["allOf"] as? [Any] { return all.flatMap { problems(value, against: $0, at: path) } }
        if let one = schema["oneOf"] as? [Any] {
            return one.contains(where: { problems(value, against: $0, at: path).isEmpty }) ? [] : ["\(path): matches none of oneOf"]
        }
        var found: [String] = []
        if let types = (schema["type"] as? [String]) ?? (schema["type"] as? String).map({ [$0] }) {
            if !types.contains(where: { matches(value, type: $0) }) { return ["\(path): \(value) is not \(types)"] }
        }
        if let allowed = schema["enum"] as? [Any], !allowed.contains(where: { "\($0)" == "\(value)" }) {
            found.append("\(path): \(value) is not one of \(allowed)")
        }
        if let object = value as? [String: Any] {
            for required in schema["required"] as? [String] ?? [] where object[required] == nil {
                found.append("\(path): missing \(required)")
            }
            let properties = schema["properties"] as? [String: Any] ?? [:]
            for (key, child) in object {
                if let property = properties[key] {
                    found += problems(child, against: property, at: "\(path).\(key)")
                } else if let additional = schema["additionalProperties"] {
                    if additional as? Bool == false { found.append("\(path): \(key) is not allowed") }
                    if let additionalSchema = additional as? [String: Any] { found += problems(child, against: additionalSchema, at: "\(path).\(key)") }
                }
            }
        }
        if let array = value as? [Any], let items = schema["items"] {
            for (index, item) in array.enumerated() { found += problems(item, against: items, at: "\(path)[\(index)]") }
        }
        if let text = value as? String, let maximum = schema["maxLength"] as? Int, text.count > maximum {
            found.append("\(path): longer than \(maximum)")
        }
        return found
    }

    func matches(_ value: Any, type: String) -> Bool {
        switch type {
        case "null": return value is NSNull
        case "string": return value is String
        case "boolean": return value is Bool
        case "integer": return value is Int
        case "number": return value is Int || value is Double
        case "array": return value is [Any]
        case "object": return value is [String: Any]
        default: return false
        }
    }
}
