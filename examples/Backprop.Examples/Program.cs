using Backprop.Examples;

// Runs one example by name; each is a complete program in its own file.
string name = args.Length > 0 ? args[0] : "";
string[] rest = args.Length > 1 ? args[1..] : [];
switch (name)
{
    case "xor": Xor.Run(Console.Out); break;
    case "custom-function": CustomFunctionExample.Run(Console.Out); break;
    case "csv-regression": CsvRegression.Run(Console.Out, rest.Length > 0 ? rest[0] : CsvRegression.DefaultPath); break;
    case "fashion-mnist-cnn": FashionMnistCnn.Run(Console.Out, rest.Length > 0 ? rest[0] : Backprop.Data.FashionMnist.DefaultDirectory); break;
    case "csv-classification": CsvClassification.Run(Console.Out, rest.Length > 0 ? rest[0] : CsvClassification.DefaultPath); break;
    case "tiny-gpt": TinyGpt.Run(Console.Out, rest.Length > 0 ? rest[0] : "/usr/share/games/fortunes"); break;
    default:
        Console.Error.WriteLine("usage: dotnet run --project examples/Backprop.Examples -- <example> [args]");
        Console.Error.WriteLine("examples: xor, custom-function, csv-regression [boston_house_prices.csv], fashion-mnist-cnn [data directory], csv-classification [wine_data.csv], tiny-gpt [text file or folder]");
        return 2;
}
return 0;
