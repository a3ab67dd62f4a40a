"""summary, count_parameters and receptive_field against hand-computed values."""
import pytest

from gradkit import nn
from gradkit.analysis import count_parameters, receptive_field, summary


def small_cnn():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3, groups=2),
                         nn.Flatten(), nn.Linear(16 * 14 * 14, 10))


def test_summary_shapes_params_and_macs_by_hand():
    s = summary(small_cnn(), (1, 3, 32, 32))
    rows = {r["name"]: r for r in s.rows}
    assert rows["0"]["output_shape"] == (1, 8, 32, 32) and rows["2"]["output_shape"] == (1, 8, 16, 16)
    assert rows["3"]["output_shape"] == (1, 16, 14, 14) and rows["5"]["output_shape"] == (1, 10)
    assert rows["0"]["params"] == 8 * 3 * 3 * 3 + 8
    assert rows["3"]["params"] == 16 * 4 * 3 * 3 + 16          # groups=2: 4 input channels per filter
    assert rows["0"]["macs"] == 3 * 3 * 3 * 8 * 32 * 32         # Kh*Kw*Cin/groups*Cout*Hout*Wout
    assert rows["3"]["macs"] == 3 * 3 * (8 // 2) * 16 * 14 * 14
    assert rows["5"]["macs"] == 16 * 14 * 14 * 10
    assert rows["1"]["macs"] == 0 and rows["1"]["params"] == 0
    assert s.total_params == 224 + 592 + 3136 * 10 + 10
    assert s.total_flops == 2 * s.total_macs
    text = str(s)
    assert "Conv2d" in text and "Total params: 32,186" in text


def test_count_parameters_trainable_only():
    model = small_cnn()
    for p in model[0].parameters():
        p.requires_grad_(False)
    assert count_parameters(model) == 32186
    assert count_parameters(model, trainable_only=True) == 32186 - 224
    assert summary(model, (2, 3, 32, 32)).rows[0]["trainable"] == "frozen"


@pytest.mark.parametrize("layers, size, jump", [
    ([nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3), nn.Conv2d(1, 1, 3)], 7, 1),            # three 3x3 convs = 7
    ([nn.Conv2d(1, 1, 3, dilation=2)], 5, 1),                                        # dilation 2: 5
    ([nn.Conv2d(1, 1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(1, 1, 3)], 8, 2),
    ([nn.Conv2d(1, 1, 7, stride=2, padding=3), nn.MaxPool2d(3, 2, 1), nn.Conv2d(1, 1, 3, padding=1)], 19, 4),
])
def test_receptive_field_known_nets(layers, size, jump):
    field = receptive_field(nn.Sequential(*layers))[-1]
    assert (field.size, field.jump) == (size, jump)


def test_receptive_field_start_offset_and_global_layers():
    fields = receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3, padding=1), nn.Conv2d(1, 1, 3, stride=2)))
    assert fields[0].start == 0.5 and fields[1].start == 1.5
    with pytest.raises(ValueError, match="input_shape"):
        receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten()))
    assert receptive_field(nn.Sequential(nn.Conv2d(1, 1, 3), nn.Flatten()), (1, 28, 28))[-1].size == 28
    with pytest.raises(ValueError, match="not supported"):
        receptive_field(nn.Sequential(nn.LSTM(1, 1)) if hasattr(nn, "LSTM") else nn.Sequential(nn.Bilinear(1, 1, 1)))
