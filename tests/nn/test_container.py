from collections import OrderedDict

import numpy as np
import pytest
import torch

import gradkit as gk
from gradkit import nn


def layers(lib):
    return [lib.nn.Linear(3, 4), lib.nn.ReLU(), lib.nn.Linear(4, 4), lib.nn.Tanh(), lib.nn.Linear(4, 2)]


def names(module):
    return list(module._modules)


def test_sequential_forward_matches_torch():
    torch.manual_seed(0)
    model, tmodel = nn.Sequential(*layers(gk)), torch.nn.Sequential(*layers(torch))
    model.load_state_dict(tmodel.state_dict())
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    np.testing.assert_allclose(model(gk.tensor(x)).detach().numpy(), tmodel(torch.tensor(x)).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert repr(model) == repr(tmodel)


def test_sequential_indexing_slicing_and_editing_like_torch():
    model, tmodel = nn.Sequential(*layers(gk)), torch.nn.Sequential(*layers(torch))
    assert len(model) == 5
    assert model[-1] is list(model)[4] and isinstance(model[1], nn.ReLU)
    sliced = model[1:4]
    assert isinstance(sliced, nn.Sequential) and sliced[0] is model[1]
    assert names(model[::2]) == names(tmodel[::2])
    with pytest.raises(IndexError, match="out of range"):
        model[5]
    for edit in (lambda m: m.__delitem__(1), lambda m: m.__delitem__(slice(0, 2)),
                 lambda m: m.insert(1, type(m[0])(2, 2)), lambda m: m.insert(-1, type(m[0])(2, 2)),
                 lambda m: m.append(type(m[0])(2, 2)), lambda m: m.extend([type(m[0])(1, 1)]),
                 lambda m: m.pop(2)):
        m, t = nn.Sequential(*layers(gk)), torch.nn.Sequential(*layers(torch))
        edit(m), edit(t)
        assert names(m) == names(t)
        assert [type(c).__name__ for c in m] == [type(c).__name__ for c in t]
        assert list(m.state_dict()) == list(t.state_dict())


def test_sequential_setitem_and_add():
    model = nn.Sequential(*layers(gk))
    replacement = nn.Identity()
    model[-2] = replacement
    assert model[3] is replacement and len(model) == 5
    combined = model + nn.Sequential(nn.Sigmoid())
    assert len(combined) == 6 and isinstance(combined[5], nn.Sigmoid)


def test_sequential_from_ordered_dict_keeps_names():
    model = nn.Sequential(OrderedDict(conv=nn.Linear(2, 2), act=nn.ReLU(), out=nn.Linear(2, 1)))
    tmodel = torch.nn.Sequential(OrderedDict(conv=torch.nn.Linear(2, 2), act=torch.nn.ReLU(),
                                             out=torch.nn.Linear(2, 1)))
    assert list(model.state_dict()) == list(tmodel.state_dict()) == ["conv.weight", "conv.bias", "out.weight",
                                                                       "out.bias"]
    assert model.act is model[1]
    assert names(model[1:]) == ["act", "out"]
    model.append(nn.Tanh())
    assert names(model) == ["conv", "act", "out", "3"]
    assert repr(model) == repr(tmodel.append(torch.nn.Tanh()))


def test_module_list_like_torch():
    blocks = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    tblocks = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)])
    for m in (blocks, tblocks):
        m.append(type(m[0])(2, 3))
        m.insert(0, type(m[0])(1, 2))
        m += [m[0]]
        del m[2]
    assert names(blocks) == names(tblocks)
    assert repr(blocks) == repr(tblocks)  # PyTorch's compact "(1-2): 2 x Linear(...)" form
    assert len(list(blocks.parameters())) == len(list(tblocks.parameters()))  # the shared one counted once
    assert isinstance(blocks[1:3], nn.ModuleList) and len(blocks[1:3]) == 2
    assert blocks[-1] is blocks[0]
    assert repr(nn.ModuleList()) == repr(torch.nn.ModuleList())
    with pytest.raises(NotImplementedError):
        blocks(gk.ones(1))
    with pytest.raises(TypeError):
        nn.ModuleList([gk.ones(1)])


def test_module_dict_like_torch():
    d = nn.ModuleDict({"a": nn.Linear(2, 2), "b": nn.ReLU()})
    td = torch.nn.ModuleDict({"a": torch.nn.Linear(2, 2), "b": torch.nn.ReLU()})
    for m, lib in ((d, nn), (td, torch.nn)):
        m["c"] = lib.Linear(2, 1)
        m.update([("d", lib.Tanh())])
        del m["b"]
    assert list(d) == list(td) == ["a", "c", "d"]
    assert "a" in d and "b" not in d and len(d) == 3
    assert list(d.state_dict()) == list(td.state_dict())
    assert repr(d) == repr(td)
    assert d.pop("d") is not None and list(d.keys()) == ["a", "c"]
    assert [k for k, _ in d.items()] == ["a", "c"] and len(list(d.values())) == 2


def test_parameter_list_and_dict():
    plist = nn.ParameterList([nn.Parameter(gk.zeros(2)), gk.ones(3, 1)])
    assert isinstance(plist[1], nn.Parameter) and len(plist) == 2 and plist[-1] is plist[1]
    plist.append(gk.zeros(1))
    tlist = torch.nn.ParameterList([torch.zeros(2), torch.ones(3, 1), torch.zeros(1)])
    assert list(plist.state_dict()) == list(tlist.state_dict())
    assert repr(plist) == repr(tlist).replace("torch.", "gradkit.")
    pdict = nn.ParameterDict({"w": gk.zeros(2, 2), "b": nn.Parameter(gk.zeros(2))})
    tdict = torch.nn.ParameterDict({"w": torch.zeros(2, 2), "b": torch.zeros(2)})
    assert list(pdict.state_dict()) == list(tdict.state_dict()) == ["b", "w"] and "w" in pdict
    # PyTorch prints the legacy type name (torch.FloatTensor) here; gradkit prints the dtype.
    assert repr(pdict) == repr(tdict).replace("torch.FloatTensor", "gradkit.float32")
    assert len(list(nn.Sequential(nn.Linear(1, 1)).parameters())) == 2
