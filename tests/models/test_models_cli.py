"""``kerasconv models list|table|layers``."""

from kerasconv.cli import main


def test_models_list_and_layers(capsys, tmp_path):
    assert main(["models", "list", "vgg1*"]) == 0
    out = capsys.readouterr().out.split("\n")
    assert "vgg16  (= vgg_d)" in out and "vgg19_bn  (= vgg_e_bn)" in out
    assert main(["models", "layers", "alexnet"]) == 0
    out = capsys.readouterr().out
    assert "| conv1 | Conv2D | 55×55×96 | 34,944 (34.9K) | 105,415,200 (105.4M) |" in out
    assert "724,406,816" in out
    table = tmp_path / "table.md"
    assert main(["models", "table", "cifar_resnet2*", "--out", str(table)]) == 0
    out = capsys.readouterr().out
    assert "| cifar_resnet20 |" in out and "269,722 | 269,722 |" in out
    assert table.read_text().startswith("| model |")


def test_models_cli_errors_are_one_line(capsys):
    assert main(["models", "layers", "vgg17"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("kerasconv models: error: Unknown model 'vgg17'") and err.count("\n") == 1
    assert main(["models", "layers", "lenet5", "--input-shape", "32,32"]) == 2
    assert "three entries" in capsys.readouterr().err
