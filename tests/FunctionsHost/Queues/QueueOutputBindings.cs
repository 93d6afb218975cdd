// Queue output bindings: after a successful invocation the host writes what the worker
// returned for each "queue" binding with direction out, to the binding's queueName (%…%
// resolved) in the account its "connection" names, creating the queue if needed, encoded as
// host.json's messageEncoding says. A binding's value is in InvocationResponse.output_data
// under its name, or in return_value for the binding named "$return"
// (DotNetWorker.Grpc/Handlers/InvocationHandler.cs). One message per value: a string, JSON
// text, bytes, or each item of a collection or of a JSON array. Output bindings of other
// types are not emulated: they are named in the log and skipped.
using System.Text.Json;
using Nixery.FunctionsHost.Rpc;

namespace Nixery.FunctionsHost;

internal sealed class QueueOutputBindings(QueueClients clients, AppSettings settings, HostLog log)
{
    public const string ReturnBindingName = "$return";

    public async Task WriteAsync(EmulatedFunction function, InvocationResponse response, CancellationToken cancellationToken)
    {
        foreach (var binding in function.Bindings.Where(b => b.IsOutput && !b.IsTrigger))
        {
            var value = binding.Name == ReturnBindingName && response.ReturnValue is not null
                ? response.ReturnValue
                : response.OutputData.FirstOrDefault(d => d.Name == binding.Name)?.Data;
            if (value is null || value.DataCase == TypedData.DataOneofCase.None)
            {
                continue;
            }

            if (!binding.Type.Equals("queue", StringComparison.OrdinalIgnoreCase))
            {
                if (!binding.Type.Equals("http", StringComparison.OrdinalIgnoreCase))
                {
                    log.Write("host", $"output.skipped function={function.Name} binding={binding.Name} type={binding.Type} reason=\"not emulated\"");
                }

                continue;
            }

            var where = $"function {function.Name}, queue output {binding.Name}";
            var queueName = settings.Resolve(binding.Property("queueName") ?? "", where);
            var queue = clients.Queue(binding.Property("connection"), queueName, where);
            await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken);
            foreach (var message in Messages(value))
            {
                var receipt = await queue.SendMessageAsync(message, cancellationToken: cancellationToken);
                log.Write("host", $"output.queued function={function.Name} binding={binding.Name} queue={queueName} id={receipt.Value.MessageId}");
            }
        }
    }

    private static IEnumerable<BinaryData> Messages(TypedData value) => value.DataCase switch
    {
        TypedData.DataOneofCase.String => [BinaryData.FromString(value.String)],
        TypedData.DataOneofCase.Json => JsonMessages(value.Json),
        TypedData.DataOneofCase.Bytes => [BinaryData.FromBytes(value.Bytes.ToByteArray())],
        TypedData.DataOneofCase.Stream => [BinaryData.FromBytes(value.Stream.ToByteArray())],
        TypedData.DataOneofCase.CollectionString => value.CollectionString.String.Select(BinaryData.FromString),
        TypedData.DataOneofCase.CollectionBytes => value.CollectionBytes.Bytes.Select(b => BinaryData.FromBytes(b.ToByteArray())),
        TypedData.DataOneofCase.Int => [BinaryData.FromString(value.Int.ToString(System.Globalization.CultureInfo.InvariantCulture))],
        TypedData.DataOneofCase.Double => [BinaryData.FromString(value.Double.ToString(System.Globalization.CultureInfo.InvariantCulture))],
        _ => throw new InvalidOperationException($"a queue output cannot hold {value.DataCase}"),
    };

    private static IEnumerable<BinaryData> JsonMessages(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var items = root.ValueKind == JsonValueKind.Array ? root.EnumerateArray().ToList() : [root];
        return [.. items.Select(item => BinaryData.FromString(item.ValueKind == JsonValueKind.String ? item.GetString()! : item.GetRawText()))];
    }
}
