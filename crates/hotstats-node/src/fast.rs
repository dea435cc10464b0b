//! `sum`, `min` and `max` as raw Node-API callbacks.
//!
//! Why not `#[napi]`: these are called per batch on the hot path, and their fixed cost is what
//! the crossover length depends on. napi-derive's generated wrapper (argument structs, borrow
//! scopes, Result plumbing) measured ~40 ns more per call than a node-addon-api function doing
//! the same work (benchmark/kernels.ts), so these few lines call Node-API directly. They keep
//! the binding rules: arguments checked (TypeError naming the argument), `catch_unwind` around
//! the kernel, no panic crosses into Node. Their TypeScript types are in `fast.d.ts` (the
//! generated `native.d.ts` includes it as its header).

use std::ffi::CString;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

use hotstats_core::kernels::Kernels;
use napi::bindgen_prelude::*;
use napi::sys;

type Kernel = fn(&Kernels, &[f64]) -> f64;

/// Throws a JS error of the given kind and returns null (what a callback returns after a throw).
///
/// # Safety
/// `env` is the env of the Node-API callback running now, on the JS thread.
unsafe fn throw(env: sys::napi_env, type_error: bool, msg: &str) -> sys::napi_value {
    let msg = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    // SAFETY: env is the live env of this callback; msg is NUL-terminated and outlives the call.
    if type_error {
        sys::napi_throw_type_error(env, ptr::null(), msg.as_ptr());
    } else {
        sys::napi_throw_error(env, ptr::null(), msg.as_ptr());
    }
    ptr::null_mut()
}

/// `(x: Float64Array, backend?: number) => number` for one kernel.
///
/// # Safety
/// `env` and `info` are those Node passed to the callback running now, on the JS thread.
unsafe fn unary(
    env: sys::napi_env,
    info: sys::napi_callback_info,
    name: &str,
    kernel: Kernel,
) -> sys::napi_value {
    let mut argc = 2usize;
    let mut argv = [ptr::null_mut(); 2];
    // SAFETY: argv has room for argc = 2 values; Node fills missing ones with undefined.
    if sys::napi_get_cb_info(
        env,
        info,
        &mut argc,
        argv.as_mut_ptr(),
        ptr::null_mut(),
        ptr::null_mut(),
    ) != sys::Status::napi_ok
    {
        return throw(env, false, "hotstats: could not read the call's arguments");
    }
    let mut ty = 0;
    let mut len = 0usize;
    let mut data = ptr::null_mut();
    // SAFETY: argv[0] is a value of this call (or undefined); out-pointers are valid locals.
    let status = sys::napi_get_typedarray_info(
        env,
        argv[0],
        &mut ty,
        &mut len,
        &mut data,
        ptr::null_mut(),
        ptr::null_mut(),
    );
    if status != sys::Status::napi_ok || ty != sys::TypedarrayType::float64_array {
        return throw(env, true, &format!("{name}: x must be a Float64Array"));
    }
    let backend = if argc >= 2 {
        let mut vt = 0;
        // SAFETY: argv[1] is a value of this call.
        sys::napi_typeof(env, argv[1], &mut vt);
        if vt == sys::ValueType::napi_undefined {
            None
        } else if vt == sys::ValueType::napi_number {
            let mut id = 0u32;
            sys::napi_get_value_uint32(env, argv[1], &mut id);
            Some(id)
        } else {
            return throw(
                env,
                true,
                &format!("{name}: backend must be a number (a backend id) or undefined"),
            );
        }
    } else {
        None
    };
    let kernels = match crate::kernels::for_backend(backend) {
        Ok(k) => k,
        Err(e) => return throw(env, false, &format!("{name}: {}", e.reason)),
    };
    let x: &[f64] = if len == 0 {
        &[]
    } else {
        // SAFETY: Node reported a Float64Array of `len` elements at `data` (aligned: a
        // Float64Array's byteOffset is a multiple of 8). The slice lives only during this call,
        // on the JS thread, so the array cannot be detached meanwhile, and it is only read. A
        // plain ArrayBuffer cannot be written meanwhile either; a SharedArrayBuffer can, by
        // another thread, which the API leaves to the caller (crate doc).
        std::slice::from_raw_parts(data as *const f64, len)
    };
    match catch_unwind(AssertUnwindSafe(|| kernel(&kernels, x))) {
        Ok(v) => {
            let mut out = ptr::null_mut();
            // SAFETY: env is live; out is a valid out-pointer.
            sys::napi_create_double(env, v, &mut out);
            out
        }
        Err(_) => throw(env, false, &format!("hotstats: internal panic in {name}")),
    }
}

// The three callbacks: Node calls them with the env and info of the call (`unary`'s contract).
unsafe extern "C" fn sum_cb(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    unary(env, info, "sum", |k, x| k.sum(x))
}

unsafe extern "C" fn min_cb(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    unary(env, info, "min", |k, x| k.min(x))
}

unsafe extern "C" fn max_cb(env: sys::napi_env, info: sys::napi_callback_info) -> sys::napi_value {
    unary(env, info, "max", |k, x| k.max(x))
}

pub fn register(exports: Object) -> Result<()> {
    let raw = exports.value();
    let (env, exports_raw) = (raw.env, raw.value);
    let callbacks: [(&str, sys::napi_callback); 3] = [
        ("sum", Some(sum_cb)),
        ("min", Some(min_cb)),
        ("max", Some(max_cb)),
    ];
    for (name, cb) in callbacks {
        let cname = CString::new(name).expect("static name");
        let mut f = ptr::null_mut();
        // SAFETY: env and exports come from module registration; cname is NUL-terminated.
        unsafe {
            check_status!(sys::napi_create_function(
                env,
                cname.as_ptr(),
                name.len() as isize,
                cb,
                ptr::null_mut(),
                &mut f
            ))?;
            check_status!(sys::napi_set_named_property(
                env,
                exports_raw,
                cname.as_ptr(),
                f
            ))?;
        }
    }
    Ok(())
}
