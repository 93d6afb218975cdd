// The sample app's entry point, as every isolated-worker app with the ASP.NET Core
// integration starts (the worker reads the host's gRPC address from its command line).
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

var builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Build().Run();
