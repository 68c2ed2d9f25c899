"""Tensors and NumPy arrays, both ways: every dtype, sharing and copying, refusals."""
import gzip

import numpy as np
import pytest

import tern

NATIVE = {
    np.float32: tern.float32, np.float64: tern.float64, np.int8: tern.int8, np.uint8: tern.uint8,
    np.int16: tern.int16, np.int32: tern.int32, np.int64: tern.int64, np.bool_: tern.DataType.bool,
}


@pytest.mark.parametrize("numpy_type", list(NATIVE))
def test_round_trip_keeps_values_dtype_and_shape(numpy_type):
    array = (np.arange(24) % 7 - 3).astype(numpy_type).reshape(2, 3, 4)
    tensor = tern.Tensor(array)
    assert tensor.dtype == NATIVE[numpy_type]
    assert tensor.shape == (2, 3, 4) and tensor.numel == 24 and len(tensor) == 2
    back = np.array(tensor)
    assert back.dtype == array.dtype and back.shape == array.shape
    np.testing.assert_array_equal(back, array)
    np.testing.assert_array_equal(np.asarray(memoryview(tensor)), array)  # the buffer protocol


def test_contiguous_arrays_are_shared_not_copied():
    array = np.zeros((2, 3), np.float32)
    tensor = tern.Tensor(array)
    array[1, 2] = 5.0
    assert tensor.numpy()[1, 2] == 5.0
    view = tensor.numpy()
    view[0, 0] = -1.0
    assert array[0, 0] == -1.0


def test_copy_true_and_non_contiguous_arrays_are_copied():
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    copied = tern.Tensor(array, copy=True)
    strided = tern.Tensor(array[:, ::2])
    array[:] = 0
    np.testing.assert_array_equal(copied.numpy(), np.arange(12, dtype=np.float32).reshape(3, 4))
    np.testing.assert_array_equal(strided.numpy(), [[0, 2], [4, 6], [8, 10]])


def test_a_view_outlives_its_tensor():
    view = tern.Tensor(np.full((1000,), 3, np.int32), copy=True).numpy()
    assert int(view.sum()) == 3000


def test_big_endian_arrays_are_read_by_value():
    array = np.array([1.5, -2.0, 3.25], dtype=">f4")
    tensor = tern.Tensor(array)
    assert tensor.dtype == tern.float32
    np.testing.assert_array_equal(tensor.numpy(), [1.5, -2.0, 3.25])


@pytest.mark.parametrize("dtype,storage,low,high", [(tern.int4, np.int8, -8, 7), (tern.uint4, np.uint8, 0, 15)])
def test_four_bit_tensors_hold_one_value_per_byte(dtype, storage, low, high):
    values = np.arange(low, high + 1).astype(storage)
    tensor = tern.Tensor(values, dtype)
    assert tensor.dtype == dtype and dtype.bits == 4
    back = tensor.numpy()
    assert back.dtype == storage
    np.testing.assert_array_equal(back, values)
    with pytest.raises(tern.Error, match=f"does not fit {str(dtype).split('.')[-1]}"):
        tern.Tensor(np.array([low, high + 1]).astype(storage), dtype)


def test_cast_saturates_like_onnx_cast_then_clamp():
    tensor = tern.Tensor(np.array([300.7, -300.0, -1.9, 1.9, np.nan], np.float32))
    np.testing.assert_array_equal(tensor.cast(tern.int8).numpy(), [127, -128, -1, 1, 0])
    np.testing.assert_array_equal(tensor.cast(tern.int4).numpy(), [7, -8, -1, 1, 0])


@pytest.mark.parametrize("array,message", [
    (np.zeros(3, np.float16), "NumPy dtype float16 has no Tern element type"),
    (np.zeros(3, np.uint16), "NumPy dtype uint16 has no Tern element type"),
    (np.array(["a"]), "has no Tern element type"),
])
def test_dtypes_tern_lacks_are_refused(array, message):
    with pytest.raises(tern.Error, match=message):
        tern.Tensor(array)


def test_no_silent_conversion():
    with pytest.raises(tern.Error, match="the array is float64, not float32"):
        tern.Tensor(np.zeros(3), tern.float32)
    with pytest.raises(tern.Error, match="int4 takes int8 arrays"):
        tern.Tensor(np.zeros(3, np.int32), tern.int4)


def test_npy_files_read_and_written(tmp_path, fmnist300):
    samples, labels = fmnist300
    expected = np.load(gzip.open(samples))
    np.testing.assert_array_equal(tern.read_npy(samples), expected)
    path = tmp_path / "x.npy"
    tern.write_npy(expected[:2], path)
    np.testing.assert_array_equal(np.load(path), expected[:2])
