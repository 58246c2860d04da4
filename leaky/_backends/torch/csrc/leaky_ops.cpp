// leaky's torch operators, registered from C++ (TORCH_LIBRARY).
//
// Schemas (the Python fallback in _python_ops.py registers the same):
//   leaky_relu(Tensor x, float negative_slope) -> Tensor
//   leaky_relu_with_mask(Tensor x, float negative_slope) -> (Tensor, Tensor)
//   leaky_relu_packed(Tensor x, float negative_slope) -> (Tensor, Tensor)
//   leaky_relu_backward(Tensor grad_output, Tensor mask, float negative_slope) -> Tensor
//   leaky_relu_(Tensor(a!) x, float negative_slope) -> ()
//
// What is here, by dispatch key:
//   CPU       the kernels of leaky's ufuncs, called through the kernel table
//             (src/leaky_kernel_table.h) that the active kernel variant hands
//             out: no second copy of the math.
//   Autograd  nodes that save only the mask (packed bits for leaky_relu and
//             leaky_relu_), forward-mode tangents at level 0, and a double
//             backward that gives x a zero gradient, as torch's own.
// Fake/meta kernels, vmap rules, CUDA kernels and inductor decompositions are
// registered from Python (_registrations.py), for this library and the
// fallback alike.
//
// The module also binds `direct_*` functions: the plainest eager calls (a
// dense CPU float tensor, no dispatch mode, no tracer, no functorch wrapper,
// no forward-mode tangent) run here without torch's Python argument parser
// and dispatcher; anything else returns None and goes through the dispatcher.

#include <torch/extension.h>
#include <torch/library.h>
#include <torch/csrc/autograd/VariableTypeUtils.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/autograd/python_variable.h>
#include <torch/csrc/jit/frontend/tracer.h>
#include <ATen/PythonTorchFunctionTLS.h>
#include <c10/core/impl/TorchDispatchModeTLS.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "leaky_kernel_table.h"

namespace {

using at::Tensor;
using torch::autograd::Edge;
using torch::autograd::Node;
using torch::autograd::SavedVariable;
using torch::autograd::variable_list;

// ------------------------------------------------------------ the kernels --

const leaky_kernel_table* kernels = nullptr;

void set_kernel_table(py::capsule capsule) {
  auto table = static_cast<const leaky_kernel_table*>(
      PyCapsule_GetPointer(capsule.ptr(), LEAKY_KERNEL_TABLE_NAME));
  if (table == nullptr) throw py::error_already_set();
  TORCH_CHECK(table->version == LEAKY_KERNEL_TABLE_VERSION,
              "leaky's kernel table has version ", table->version, ", these operators were "
              "built for ", LEAKY_KERNEL_TABLE_VERSION, ": rebuild them");
  kernels = table;
}

int kind_of(at::ScalarType dtype) {
  switch (dtype) {
    case at::kHalf: return LEAKY_KIND_HALF;
    case at::kFloat: return LEAKY_KIND_SINGLE;
    case at::kDouble: return LEAKY_KIND_DOUBLE;
    case at::kBFloat16: return LEAKY_KIND_BFLOAT16;
    default: return -1;
  }
}

bool is_kernel_dtype(at::ScalarType dtype) { return kind_of(dtype) >= 0; }

// One operation over n elements; every operand is one contiguous range.
void run(int op, at::ScalarType dtype, std::initializer_list<void*> operands, int64_t n,
         double slope) {
  TORCH_CHECK(kernels != nullptr, "leaky's kernel table was never set");
  char* data[3];
  int k = 0;
  for (void* p : operands) data[k++] = static_cast<char*>(p);
  if (n >= (1 << 16) && PyGILState_Check()) {  // threads: let Python run
    py::gil_scoped_release no_gil;
    kernels->run(kind_of(dtype), op, data, n, slope);
  } else {
    kernels->run(kind_of(dtype), op, data, n, slope);
  }
}

// ----------------------------------------------------------- the contract --
// The two rules of leaky/_contract.py that an operator needs before it
// allocates (tests/test_torch_modes.py checks they agree with it).

at::ScalarType result_dtype(const Tensor& x, const char* what) {
  TORCH_CHECK_TYPE(!x.is_nested(), "leaky_relu got a nested tensor as ", what,
                   ": only dense tensors are supported");
  TORCH_CHECK_TYPE(x.layout() == at::kStrided, "leaky_relu got ", what, " with layout ",
                   x.layout(), ": only dense (torch.strided) tensors are supported");
  TORCH_CHECK_TYPE(!x.is_quantized(), "leaky_relu got ", what, " with quantized dtype ",
                   x.scalar_type(), ": dequantize it first");
  auto dtype = x.scalar_type();
  if (is_kernel_dtype(dtype)) return dtype;
  if (dtype == at::kBool || at::isIntegralType(dtype, /*includeBool=*/false))
    return c10::typeMetaToScalarType(at::get_default_dtype());  // as torch.sin
  TORCH_CHECK_TYPE(false, "leaky_relu got ", what, " with unsupported dtype ", dtype,
                   at::isComplexType(dtype)
                       ? ": complex numbers have no order, so 'x > 0' is undefined"
                       : ": expected a real floating, integer or bool tensor");
}

void check_finite(double slope) {
  TORCH_CHECK_VALUE(std::isfinite(slope), "negative_slope must be finite, got ", slope);
}

// After result_dtype (and check_finite before it, as _contract orders them).
void check_slope(double slope, at::ScalarType dtype) {
  TORCH_CHECK_VALUE(dtype == at::kDouble || std::fabs(slope) <= kernels->float32_slope_limit,
                    "negative_slope=", slope, " overflows float32, the precision a ",
                    dtype, " input is computed in");
}

int64_t packed_size(int64_t n) { return (n + 7) / 8; }

// ------------------------------------------------------ CPU, no autograd --

// x's values in a kernel dtype, readable through data_ptr (no negative bit).
Tensor values(const Tensor& x, const char* what, double slope) {
  check_finite(slope);
  auto dtype = result_dtype(x, what);
  check_slope(slope, dtype);
  Tensor v = x.scalar_type() == dtype ? x : x.to(dtype);
  return v.is_neg() ? v.resolve_neg() : v;
}

// ------------------------------------------------------------- outputs --
// Outputs come from torch's own allocator, laid out like their input, so
// they behave as torch's outputs do (resizable, seen by the profiler's
// memory accounting, huge pages under C10_THP_MEM_ALLOC_ENABLE).
Tensor new_output(const Tensor& like, at::ScalarType dtype) {
  return at::empty_like(like, like.options().dtype(dtype));
}

Tensor new_output(const Tensor& like) { return new_output(like, like.scalar_type()); }

// A tensor holding t's values as one flat range (its own layout if dense).
Tensor flat(const Tensor& t) {
  return t.is_non_overlapping_and_dense() ? t : t.contiguous();
}

Tensor forward_cpu(const Tensor& x_in, double slope) {
  Tensor x = flat(values(x_in, "x", slope));
  Tensor y = new_output(x);
  run(LEAKY_OP_FORWARD, x.scalar_type(), {x.data_ptr(), y.data_ptr()}, x.numel(), slope);
  return y;
}

std::tuple<Tensor, Tensor> forward_with_mask_cpu(const Tensor& x_in, double slope) {
  Tensor x = flat(values(x_in, "x", slope));
  Tensor y = new_output(x);
  Tensor mask = new_output(x, at::kBool);
  run(LEAKY_OP_FORWARD_MASK, x.scalar_type(), {x.data_ptr(), y.data_ptr(), mask.data_ptr()},
      x.numel(), slope);
  return {y, mask};
}

// The bits are in C order whatever x's layout; y is laid out like x.
std::tuple<Tensor, Tensor> forward_packed_cpu(const Tensor& x_in, double slope) {
  Tensor v = values(x_in, "x", slope);
  Tensor x = v.contiguous();
  Tensor bits = at::empty({packed_size(x.numel())}, x.options().dtype(at::kByte));
  Tensor y = new_output(x);
  run(LEAKY_OP_FORWARD_BITS, x.scalar_type(), {x.data_ptr(), y.data_ptr(), bits.data_ptr()},
      x.numel(), slope);
  if (!v.is_contiguous() && v.is_non_overlapping_and_dense()) {
    Tensor laid_out = new_output(v);
    laid_out.copy_(y);
    y = laid_out;
  }
  return {y, bits};
}

Tensor backward_cpu(const Tensor& grad_in, const Tensor& mask, double slope) {
  Tensor g = values(grad_in, "grad_output", slope);
  int64_t n = g.numel();
  if (mask.scalar_type() == at::kByte) {
    TORCH_CHECK_VALUE(mask.numel() == packed_size(n), "mask holds packed bits for ", n,
                      " elements, so it must have ceil(", n, " / 8) = ", packed_size(n),
                      " bytes, got ", mask.numel(), " (shape ", mask.sizes(), ")");
    Tensor gc = g.contiguous(), bits = mask.contiguous();
    Tensor out = new_output(gc);
    run(LEAKY_OP_BACKWARD_BITS, gc.scalar_type(), {gc.data_ptr(), bits.data_ptr(), out.data_ptr()},
        n, slope);
    if (!g.is_contiguous() && g.is_non_overlapping_and_dense()) {
      Tensor laid_out = new_output(g);
      laid_out.copy_(out);
      out = laid_out;
    }
    return out;
  }
  TORCH_CHECK_TYPE(mask.scalar_type() == at::kBool,
                   "mask must be a bool tensor (x > 0, as leaky_relu_with_mask returns it) "
                   "or uint8 packed bits (packed=True), got dtype ", mask.scalar_type());
  TORCH_CHECK_VALUE(mask.sizes() == g.sizes(), "grad_output and mask must have the same "
                    "shape, got ", g.sizes(), " and ", mask.sizes());
  g = flat(g);
  Tensor m = mask;
  if (m.strides() != g.strides() || !m.is_non_overlapping_and_dense()) {
    m = new_output(g, at::kBool);
    m.copy_(mask);
  }
  Tensor out = new_output(g);
  run(LEAKY_OP_BACKWARD, g.scalar_type(), {g.data_ptr(), m.data_ptr(), out.data_ptr()}, n, slope);
  return out;
}

void check_inplace_dtype(const Tensor& x, double slope) {
  check_finite(slope);
  auto dtype = result_dtype(x, "x");
  TORCH_CHECK_TYPE(dtype == x.scalar_type(), "leaky_relu in place needs a floating tensor, "
                   "got ", x.scalar_type(), ": the result is ", dtype);
  check_slope(slope, dtype);
}

// ------------------------------------------------------ saved bits' order --
// The bits that leaky_relu and leaky_relu_ keep for their own backward (and
// never return) are packed in x's memory order: the C order of
// x.permute(order), a view that is contiguous when x is dense.  So a
// channels-last x and its gradient are read as they lie, where C-order bits
// would copy both into C order and back (ten times torch's time for a
// 32x64x32x32 channels-last forward+backward).  An empty order is C order.
using Order = std::vector<int64_t>;

Order memory_order(const Tensor& x) {
  if (x.dim() < 2 || x.is_contiguous() || x.unsafeGetTensorImpl()->has_symbolic_sizes_strides())
    return {};
  Order order(x.dim());
  std::iota(order.begin(), order.end(), 0);
  auto strides = x.strides();
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return strides[a] > strides[b]; });
  return order;
}

Order inverse_of(const Order& order) {
  Order inverse(order.size());
  for (size_t k = 0; k < order.size(); k++) inverse[order[k]] = static_cast<int64_t>(k);
  return inverse;
}

// t seen in `order` (the view the bits were packed in), and back again.
Tensor in_order(const Tensor& t, const Order& order) {
  return order.empty() ? t : t.permute(order);
}

Tensor from_order(const Tensor& t, const Order& order) {
  return order.empty() ? t : t.permute(inverse_of(order));
}

// Leaky ReLU written into x; with want_bits, returns the bits of x > 0 in
// the C order of x.permute(order).
Tensor inplace_cpu(const Tensor& x, double slope, bool want_bits, const Order& order = {}) {
  check_inplace_dtype(x, slope);
  bool writable = x.is_non_overlapping_and_dense() && !x.is_neg();
  if (want_bits) {
    if (writable && in_order(x, order).is_contiguous()) {
      Tensor bits = at::empty({packed_size(x.numel())}, x.options().dtype(at::kByte));
      void* data = x.mutable_data_ptr();
      run(LEAKY_OP_FORWARD_BITS, x.scalar_type(), {data, data, bits.data_ptr()}, x.numel(), slope);
      return bits;
    }
    auto [y, bits] = forward_packed_cpu(in_order(x, order), slope);
    x.copy_(from_order(y, order));
    return bits;
  }
  if (writable) {
    void* data = x.mutable_data_ptr();
    run(LEAKY_OP_FORWARD, x.scalar_type(), {data, data}, x.numel(), slope);
  } else {
    x.copy_(forward_cpu(x, slope));
  }
  return Tensor();
}

void leaky_relu__cpu(const Tensor& x, double slope) { inplace_cpu(x, slope, false); }

// --------------------------------------------------------------- autograd --

template <typename Signature>
c10::TypedOperatorHandle<Signature> op(const char* name) {
  return c10::Dispatcher::singleton().findSchemaOrThrow(name, "").typed<Signature>();
}

using Pair = std::tuple<Tensor, Tensor>;

struct Ops {  // typed handles, looked up once
  c10::TypedOperatorHandle<Pair(const Tensor&, double)> packed =
      op<Pair(const Tensor&, double)>("leaky::leaky_relu_packed");
  c10::TypedOperatorHandle<Pair(const Tensor&, double)> with_mask =
      op<Pair(const Tensor&, double)>("leaky::leaky_relu_with_mask");
  c10::TypedOperatorHandle<Tensor(const Tensor&, const Tensor&, double)> backward =
      op<Tensor(const Tensor&, const Tensor&, double)>("leaky::leaky_relu_backward");
  c10::TypedOperatorHandle<void(const Tensor&, double)> inplace =
      op<void(const Tensor&, double)>("leaky::leaky_relu_");
};

const Ops& ops() {
  static const Ops handles;
  return handles;
}

Tensor backward_values(const Tensor& grad, const Tensor& mask, double slope) {
  at::AutoDispatchBelowADInplaceOrView below;
  return ops().backward.call(grad, mask, slope);
}

struct XMeta {  // what a zero gradient for x needs: no data
  std::vector<int64_t> sizes;
  at::TensorOptions options;
};

// grad_input = grad if mask else grad * slope, as a function of
// (grad_output, x): linear in grad_output, constant in x (torch's own
// leaky_relu_backward has the derivative zeros_like(x) there).
struct LeakyReluBackwardBackward : Node {
  SavedVariable mask_;
  double slope_ = 0;
  std::optional<XMeta> x_;  // present: next edge 1 is x's

  variable_list apply(variable_list&& grads) override;
  std::string name() const override { return "LeakyReluBackwardBackward"; }
  void release_variables() override { mask_.reset_data(); }
};

// The differentiable backward: records LeakyReluBackwardBackward when a graph
// is being built (double backward); x_edge connects x, when given.
Tensor differentiable_backward(const Tensor& grad, const Tensor& mask, double slope,
                               const Edge& x_edge, const std::optional<XMeta>& x) {
  Tensor grad_input = backward_values(grad, mask, slope);
  bool to_x = x_edge.is_valid() && x.has_value();
  if (at::GradMode::is_enabled() && (grad.requires_grad() || to_x)) {
    auto node = c10::make_intrusive<LeakyReluBackwardBackward>();
    auto edges = torch::autograd::collect_next_edges(grad);
    if (to_x) {
      edges.push_back(x_edge);
      node->x_ = x;
    }
    node->set_next_edges(std::move(edges));
    node->mask_ = SavedVariable(mask, false);
    node->slope_ = slope;
    torch::autograd::set_history(grad_input, node);
  }
  return grad_input;
}

variable_list LeakyReluBackwardBackward::apply(variable_list&& grads) {
  Tensor mask = mask_.unpack();
  variable_list out(num_outputs());
  if (grads[0].defined() && task_should_compute_output(0)) {
    out[0] = differentiable_backward(grads[0], mask, slope_,
                                     x_ ? next_edge(1) : Edge(), x_);
  }
  if (x_ && task_should_compute_output(1)) {
    out[1] = at::zeros(x_->sizes, x_->options);
  }
  return out;
}

// The backward node of the forward operators: d y / d x, from the mask
// (bits in the C order of x.permute(order_)).
struct LeakyReluBackward : Node {
  SavedVariable mask_;
  double slope_ = 0;
  XMeta x_;
  Order order_;

  variable_list apply(variable_list&& grads) override {
    if (!grads[0].defined()) return {Tensor()};
    Tensor grad_input = differentiable_backward(in_order(grads[0], order_), mask_.unpack(),
                                                slope_, next_edge(0), x_);
    return {from_order(grad_input, order_)};
  }
  std::string name() const override { return "LeakyReluBackward"; }
  void release_variables() override { mask_.reset_data(); }
};

// Record y = op(x) with a node that keeps `mask` (bits or bool).
void record(const Tensor& x, const Tensor& y, const Tensor& mask, double slope,
            const Order& order) {
  auto node = c10::make_intrusive<LeakyReluBackward>();
  node->set_next_edges(torch::autograd::collect_next_edges(x));
  node->mask_ = SavedVariable(mask, false);
  node->slope_ = slope;
  node->x_ = XMeta{x.sizes().vec(), x.options()};
  node->order_ = order;
  torch::autograd::set_history(y, node);
}

// Forward-mode AD at level 0: the tangent is the backward of x's tangent.
void forward_tangent(const Tensor& x, const Tensor& y, const Tensor& mask, double slope,
                     const Order& order) {
  Tensor tangent = x._fw_grad(/*level=*/0);
  if (tangent.defined()) {
    Tensor y_tangent = from_order(backward_values(in_order(tangent, order), mask, slope), order);
    y._set_fw_grad(y_tangent, /*level=*/0, /*is_inplace_op=*/false);
  }
}

// y and mask from `compute` (run below autograd on x.permute(order)),
// recorded for autograd.
template <typename Compute>
Pair recorded(const Tensor& x, double slope, const Order& order, Compute compute) {
  Tensor y, mask;
  {
    at::AutoDispatchBelowADInplaceOrView below;
    std::tie(y, mask) = compute(in_order(x, order));
    y = from_order(y, order);
  }
  if (torch::autograd::compute_requires_grad(x)) record(x, y, mask, slope, order);
  forward_tangent(x, y, mask, slope, order);
  return {y, mask};
}

Pair packed_autograd(const Tensor& x, double slope) {
  return recorded(x, slope, {}, [&](const Tensor& v) { return ops().packed.call(v, slope); });
}

// The bits stay inside the node, so they are packed in x's memory order.
Tensor leaky_relu_autograd(const Tensor& x, double slope) {
  return std::get<0>(recorded(x, slope, memory_order(x),
                              [&](const Tensor& v) { return ops().packed.call(v, slope); }));
}

Pair with_mask_autograd(const Tensor& x, double slope) {
  return recorded(x, slope, {}, [&](const Tensor& v) { return ops().with_mask.call(v, slope); });
}

Tensor backward_autograd(const Tensor& grad, const Tensor& mask, double slope) {
  TORCH_CHECK(!grad._fw_grad(/*level=*/0).defined(),
              "forward-mode AD through leaky_relu_backward: use leaky.torch.leaky_relu, "
              "whose forward-mode derivative torch.func and forward_ad use");
  return differentiable_backward(grad, mask, slope, Edge(), std::nullopt);
}

// In place: the bits of x > 0 are taken before x is overwritten.
void inplace_autograd(const Tensor& x, double slope) {
  bool requires_grad = torch::autograd::compute_requires_grad(x);
  torch::autograd::check_inplace(x, requires_grad);
  TORCH_CHECK(!x._fw_grad(/*level=*/0).defined(),
              "forward-mode AD through leaky_relu_: use leaky.torch.leaky_relu(x, inplace=True)");
  if (!requires_grad) {
    {
      at::AutoDispatchBelowADInplaceOrView below;
      ops().inplace.call(x, slope);
    }
    torch::autograd::increment_version(x);
    return;
  }
  auto edges = torch::autograd::collect_next_edges(x);
  XMeta meta{x.sizes().vec(), x.options()};
  Order order = memory_order(x);
  Tensor bits;
  if (x.is_cpu()) {
    bits = inplace_cpu(x, slope, /*want_bits=*/true, order);
  } else {
    at::AutoDispatchBelowADInplaceOrView below;
    auto [y, packed] = ops().packed.call(in_order(x, order), slope);
    x.copy_(from_order(y, order));
    bits = packed;
  }
  torch::autograd::increment_version(x);
  auto node = c10::make_intrusive<LeakyReluBackward>();
  node->set_next_edges(std::move(edges));
  node->mask_ = SavedVariable(bits, false);
  node->slope_ = slope;
  node->x_ = meta;
  node->order_ = order;
  torch::autograd::rebase_history(x, node);
}

// ---------------------------------------------------------- direct calls --

c10::DispatchKeySet plain_keys;  // a fresh dense CPU tensor's
PyObject* parameter_type = nullptr;

// A plain eager call: the kernels and nodes may be used without the
// dispatcher.  Anything else goes through it (returns None to Python).
bool is_plain(py::handle obj, double slope) {
  if (!THPVariable_CheckExact(obj.ptr()) &&
      !(parameter_type && Py_TYPE(obj.ptr()) == (PyTypeObject*)parameter_type))
    return false;
  if (torch::jit::tracer::isTracing() || c10::impl::TorchDispatchModeTLS::stack_len() > 0 ||
      at::impl::torch_function_mode_enabled())
    return false;
  const Tensor& x = THPVariable_Unpack(obj.ptr());
  if (x.key_set() != plain_keys || !is_kernel_dtype(x.scalar_type())) return false;
  if (!std::isfinite(slope) || (x.scalar_type() != at::kDouble &&
                                  std::fabs(slope) > kernels->float32_slope_limit))
    return false;  // the Python path raises the contract's error
  return !x._fw_grad(/*level=*/0).defined();
}

py::object direct_forward(py::handle obj, double slope, bool inplace) {
  if (!is_plain(obj, slope)) return py::none();
  const Tensor& x = THPVariable_Unpack(obj.ptr());
  if (inplace) {
    inplace_autograd(x, slope);
    return py::reinterpret_borrow<py::object>(obj);
  }
  if (torch::autograd::compute_requires_grad(x))  // the CPU kernel, not the dispatcher
    return py::cast(std::get<0>(recorded(x, slope, memory_order(x), [&](const Tensor& v) {
      return forward_packed_cpu(v, slope);
    })));
  return py::cast(forward_cpu(x, slope));
}

py::object direct_forward_with_mask(py::handle obj, double slope, bool packed) {
  if (!is_plain(obj, slope)) return py::none();
  const Tensor& x = THPVariable_Unpack(obj.ptr());
  auto compute = [&](const Tensor& v) {
    return packed ? forward_packed_cpu(v, slope) : forward_with_mask_cpu(v, slope);
  };
  if (torch::autograd::compute_requires_grad(x)) return py::cast(recorded(x, slope, {}, compute));
  return py::cast(compute(x));
}

py::object direct_backward(py::handle grad_obj, py::handle mask_obj, double slope) {
  if (!is_plain(grad_obj, slope) || !THPVariable_CheckExact(mask_obj.ptr())) return py::none();
  const Tensor& grad = THPVariable_Unpack(grad_obj.ptr());
  const Tensor& mask = THPVariable_Unpack(mask_obj.ptr());
  if (mask.key_set() != plain_keys) return py::none();
  if (torch::autograd::compute_requires_grad(grad))
    return py::cast(differentiable_backward(grad, mask, slope, Edge(), std::nullopt));
  return py::cast(backward_cpu(grad, mask, slope));
}

}  // namespace

TORCH_LIBRARY(leaky, m) {
  m.set_python_module("leaky._backends.torch._registrations");
  m.def("leaky_relu(Tensor x, float negative_slope) -> Tensor");
  m.def("leaky_relu_with_mask(Tensor x, float negative_slope) -> (Tensor, Tensor)");
  m.def("leaky_relu_packed(Tensor x, float negative_slope) -> (Tensor, Tensor)");
  m.def("leaky_relu_backward(Tensor grad_output, Tensor mask, float negative_slope) -> Tensor");
  m.def("leaky_relu_(Tensor(a!) x, float negative_slope) -> ()");
}

TORCH_LIBRARY_IMPL(leaky, CPU, m) {
  m.impl("leaky_relu", &forward_cpu);
  m.impl("leaky_relu_with_mask", &forward_with_mask_cpu);
  m.impl("leaky_relu_packed", &forward_packed_cpu);
  m.impl("leaky_relu_backward", &backward_cpu);
  m.impl("leaky_relu_", &leaky_relu__cpu);
}

TORCH_LIBRARY_IMPL(leaky, Autograd, m) {
  m.impl("leaky_relu", &leaky_relu_autograd);
  m.impl("leaky_relu_with_mask", &with_mask_autograd);
  m.impl("leaky_relu_packed", &packed_autograd);
  m.impl("leaky_relu_backward", &backward_autograd);
  m.impl("leaky_relu_", &inplace_autograd);
}

PYBIND11_MODULE(TORCH_EXTENSION_NAME, module) {
  module.doc() = "leaky's torch operators (C++): see leaky/_backends/torch/__init__.py";
  module.def("set_kernel_table", &set_kernel_table);
  module.def("set_parameter_type", [](py::handle type) {
    parameter_type = type.ptr();
    Py_INCREF(parameter_type);
  });
  module.def("direct_forward", &direct_forward, py::arg("x"), py::arg("slope"),
             py::arg("inplace"));
  module.def("direct_forward_with_mask", &direct_forward_with_mask, py::arg("x"),
             py::arg("slope"), py::arg("packed"));
  module.def("direct_backward", &direct_backward, py::arg("grad"), py::arg("mask"),
             py::arg("slope"));
  plain_keys = at::empty({1}).key_set();
}
